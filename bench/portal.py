"""The customer app's reads: the portal's request list for a contact whose organisation has
ITEMS requests, and knowledge-base search over ARTICLES articles, each p95 beside the same
SQL sent straight through psycopg; on PostgreSQL.

Seeding goes through the commands (as users write) and the views catch up before anything
is timed. Ours is the whole page, in process (`TestClient`): the session cookie checked
against the write model, the read-your-writes lookup, the view query and the page rendered
in the contact's language. Raw is the same SELECTs the page's query sends (recorded once),
replayed on one connection. The two alternate, RUNS times each.
"""

from __future__ import annotations

import random
import time
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bench.common import (
    PG_URL,
    Figure,
    RecordingTx,
    latency_figure,
    migrated,
    pg_schema,
    pg_settings,
    replayed,
    say,
    scratch_dir,
    timed_pairs,
)
from commands.customers import RegisterContact, RegisterOrganisation
from commands.knowledge_base import WriteArticle
from commands.models import Context, OpenTicket
from commands.portal import IssuePortalInvitation
from commands.portal_sign_in import AcceptPortalInvitation
from domain.contact import contact_id_for
from domain.customer import Sharing
from domain.knowledge_base.article import ArticleStatus, Visibility
from domain.values import Actor
from ledgerdesk import bootstrap
from projections.base import current_tables
from projections.knowledge_base import Reader, search_articles
from projections.portal import list_portal_tickets

ITEMS = 10_000
ARTICLES = 10_000
SMOKE_ITEMS = 60
SMOKE_ARTICLES = 60
CONTACTS = 25
SEED = 20261205
CTX = Context(actor=Actor.system("bench"), correlation_id="bench")
WORDS = [
    "printer",
    "invoice",
    "password",
    "network",
    "laptop",
    "refund",
    "contract",
    "export",
    "screen",
    "backup",
    "mail",
    "calendar",
    "shipping",
    "update",
    "licence",
    "phone",
    "badge",
    "report",
    "access",
    "server",
]


def run(smoke: bool = False) -> list[Figure]:
    items, articles = (SMOKE_ITEMS, SMOKE_ARTICLES) if smoke else (ITEMS, ARTICLES)
    with (
        scratch_dir() as data,
        pg_schema() as schema,
        migrated(pg_settings(schema, data)) as container,
    ):
        started = time.perf_counter()
        token, organisation_id, contact_id = _seed(container, items, articles)
        container.runner.catch_up()
        say(f"portal: seeded {items:,} requests and {articles:,} articles"
            f" in {time.perf_counter() - started:.0f} s")  # fmt: skip
        return _measure(container, schema, token, organisation_id, contact_id, smoke)


def _seed(container: bootstrap.Container, items: int, articles: int) -> tuple[str, str, str]:
    rng = random.Random(SEED)
    organisation = container.customers.register_organisation(
        RegisterOrganisation(name="Acme", sharing=Sharing.EVERYONE), CTX
    )
    emails = [f"person{i}@acme.example" for i in range(CONTACTS)]
    for email in emails:
        container.customers.register_contact(
            RegisterContact(email=email, name=email, organisation_id=organisation.id), CTX
        )
    for i in range(items):
        title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} issue {i}"
        container.commands.open_ticket(
            OpenTicket(title=title, description="Seen since Monday.",
                       requester_email=rng.choice(emails)),
            CTX,
        )  # fmt: skip
    kb = container.services().kb
    for i in range(articles):
        body = " ".join(rng.choice(WORDS) for _ in range(120))
        kb.write(
            WriteArticle(title=f"How to fix the {rng.choice(WORDS)} ({i})", body=body,
                         status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC),
            CTX,
        )  # fmt: skip
    contact_id = contact_id_for(emails[0])
    _, invitation, _, _ = container.portal.issue_invitation(
        IssuePortalInvitation(contact_id=contact_id), CTX
    )
    sign_in = container.services().pages
    assert sign_in is not None
    _, token = sign_in.sign_in.accept_invitation(
        AcceptPortalInvitation(
            invitation=SecretStr(invitation), password=SecretStr("bench password 1")
        ),
        CTX,
    )
    return token, str(organisation.id), str(contact_id)


def _measure(
    container: bootstrap.Container,
    schema: str,
    token: str,
    organisation_id: str,
    contact_id: str,
    smoke: bool,
) -> list[Figure]:
    views = container.views
    with views.read() as tx:
        recorder = RecordingTx(tx)
        shown, _ = list_portal_tickets(
            recorder, current_tables(tx, "portal"), contact_id, organisation_id, None, 25,
            show="open", q="",
        )  # fmt: skip
        list_sent = recorder.sent
        recorder = RecordingTx(tx)
        found = search_articles(recorder, current_tables(tx, "kb"), Reader(), "printer", 20)
        search_sent = recorder.sent
    assert len(shown) == 25, len(shown)
    assert found, "the search found nothing"
    with (
        psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={schema}") as raw,
        TestClient(container.http_app()) as http,
    ):
        http.cookies.set("ld_portal", token)

        def portal_page() -> Any:
            page = http.get("/portal")
            assert page.status_code == 200, page.text[:300]
            return page

        def kb_search() -> Any:
            page = http.get("/kb/search", params={"q": "printer"})
            assert page.status_code == 200, page.text[:300]
            return page

        runs = "(smoke: figures meaningless)" if smoke else ""
        return [
            latency_figure(
                f"portal request list p95, organisation of {_count(views, 'portal'):,} requests",
                *timed_pairs(portal_page, replayed(raw, list_sent)),
                note=f"the whole page in process: session, view query, render {runs}".strip(),
            ),
            latency_figure(
                f"knowledge-base search p95, {_count(views, 'kb'):,} articles",
                *timed_pairs(kb_search, replayed(raw, search_sent)),
                note=f"the whole /kb/search page; PostgreSQL full-text search {runs}".strip(),
            ),
        ]


def _count(views: Any, view: str) -> int:
    table = {"portal": "portal_tickets", "kb": "kb_articles"}[view]
    with views.read() as tx:
        row = tx.one(f"SELECT COUNT(*) AS n FROM {current_tables(tx, view)[table]}")
    return int(row["n"]) if row else 0
