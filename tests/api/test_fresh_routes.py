"""Every GET route waits, through its `fresh(...)` dependency, for each view it reads: else a
caller's read could miss the caller's own write. Each route is called for real (with data
behind every path parameter) and the views it reads are recorded as it looks them up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from itertools import product
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sse_starlette import EventSourceResponse

from api.app import create_app
from api.deps import fresh_views
from ledgerdesk import bootstrap
from projections.db import Params, Row, Tx, ViewDatabase
from tests.factories import user_token

# The statement `projections.base.current_tables` runs: every view query starts with it.
LOOKUP = re.compile(r"^SELECT generation FROM projection_tracking WHERE view = \?")


class RecordingTx(Tx):
    """A view transaction that notes which views' tables are looked up."""

    def __init__(self, tx: Tx, seen: set[str]) -> None:
        self.tx = tx
        self.seen = seen
        self.dialect = tx.dialect

    def execute(self, sql: str, params: Params = ()) -> None:
        self.tx.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> None:
        self.tx.executemany(sql, rows)

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        if LOOKUP.match(sql):
            self.seen.add(params[0])
        return self.tx.all(sql, params)

    def columns(self, table: str) -> set[str]:
        return self.tx.columns(table)


class RecordingViews(ViewDatabase):
    """The live view database, recording the views each read looks up."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.dialect = db.dialect
        self.seen: set[str] = set()

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.db.read() as tx:
            yield RecordingTx(tx, self.seen)

    def write(self) -> Any:
        return self.db.write()

    def bulk(self) -> Any:
        return self.db.bulk()

    def close(self) -> None:
        self.db.close()


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def waited_for(route: APIRoute) -> set[str]:
    """The views the route's `fresh(...)` dependencies wait for."""
    views: set[str] = set()
    for sub in _dependencies(route.dependant):
        views |= set(fresh_views(sub.call) or ()) if sub.call else set()
    return views


def made(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def world(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    """One of everything a GET path names; the path values, and the portal's headers."""
    post = client.post
    project = made(post("/api/v1/projects", json={"name": "Audit"}))["id"]
    ticket = made(post("/api/v1/tickets", json={"title": "T", "project_id": project}))["number"]
    task = made(post("/api/v1/tasks", json={"title": "K", "project_id": project}))["number"]
    files = {"file": ("a.txt", b"audit", "text/plain")}
    on_ticket = post(f"/api/v1/tickets/{ticket}/attachments", files=files)
    on_task = post(f"/api/v1/tasks/{task}/attachments", files=files)
    entry = {"item": task, "date": "2026-12-01", "minutes": 30}
    org = made(post("/api/v1/customers", json={"name": "Acme", "sharing": "everyone"}))["id"]
    contact = made(
        post("/api/v1/contacts", json={"email": "c@acme.example", "organisation_id": org})
    )
    invited = made(post(f"/api/v1/contacts/{contact['id']}/portal-invitations"))
    session = made(post("/api/v1/portal/session", json={"invitation": invited["invitation"]}))
    portal = {"Authorization": f"Bearer {session['access_token']}"}
    opened = made(post("/api/v1/portal/tickets", json={"title": "P"}, headers=portal))
    chat = made(post("/api/v1/portal/chats", json={"body": "Hi"}, headers=portal))
    in_chat = post(f"/api/v1/portal/chats/{chat['id']}/attachments", files=files, headers=portal)
    article = made(post("/api/v1/kb/articles", json={"title": "A", "status": "published"}))
    shared = {"visibility": "customer"}
    on_portal = post(f"/api/v1/tickets/{opened['number']}/attachments", files=files, data=shared)
    held = post("/api/v1/mail/inbound", content=b"\x00", headers={"Content-Type": "message/rfc822"})
    assert held.json()["outcome"] == "quarantined", held.text
    wait = {"X-Min-Position": str(held.headers["X-Log-Position"])}
    quarantined = client.get("/api/v1/mail/quarantine", headers=wait).json()["items"][0]["id"]
    mailbox = {"address": "audit@example.com", "project_id": project}
    values = {
        "quarantine_id": quarantined,
        "kind": "acknowledgement",
        "message_key": "chat_offline",
        "view_id": "c18f06de-a32b-57ac-8383-2d1feb7a23b3",  # a system view
        "dashboard_id": made(
            post(
                "/api/v1/dashboards",
                json={"name": "D", "definition": {"widgets": [{"type": "workload"}]}},
            )
        )["id"],
        "index": "0",
        "report_id": (
            report := made(
                post(
                    "/api/v1/reports/saved",
                    json={"name": "R", "definition": {"template": "tickets"}},
                )
            )["id"]
        ),
        "template": report,  # a saved report: its run reads the saved reports too
        "schedule_id": made(
            post(
                "/api/v1/reports/schedules",
                json={
                    "report_id": report,
                    "recipients": ["client@example.com"],
                    "schedule": {"every": "month", "day": 1, "time": "08:00"},
                },
            )
        )["id"],
        "job_id": client.post(
            "/api/v1/imports/items",
            files={"file": ("a.csv", b"title\nFrom a job\n", "text/csv")},
            params={"job": "true"},
        ).json()["id"],
        "mailbox_id": made(post("/api/v1/mail/mailboxes", json=mailbox))["id"],
        "user_id": client.get("/api/v1/me").json()["id"],
        "team_id": made(post("/api/v1/teams", json={"name": "Crew"}))["id"],
        "portfolio_id": made(post("/api/v1/portfolios", json={"name": "All"}))["id"],
        "project_id": project,
        "folder_id": made(post("/api/v1/folders", json={"project_id": project, "name": "F"}))["id"],
        "org_id": org,
        "contact_id": contact["id"],
        "entry_id": made(post("/api/v1/timesheets", json=entry))["id"],
        "ticket": str(ticket),
        "task": str(task),
        "portal": str(opened["number"]),
        "ticket_attachment": on_ticket.headers["X-Attachment-ID"],
        "task_attachment": on_task.headers["X-Attachment-ID"],
        "portal_attachment": on_portal.headers["X-Attachment-ID"],
        "chat_attachment": in_chat.headers["X-Attachment-ID"],
        "article_id": article["id"],
        "slug": article["slug"],
        # An item type's key, and a form's (the same: both paths take `{key}`)
        "key": made(
            post(
                "/api/v1/forms",
                json={"key": "feedback", "name": "Feedback", "item_type": "feedback"},
            )
        )["key"],
        "policy_id": made(post("/api/v1/sla-policies", json={"name": "Standard"}))["id"],
        "status_id": made(
            post(
                "/api/v1/statuses",
                params={"item_type": "ticket"},
                json={"name": "Parked", "state": "in_progress"},
            )
        )["id"],
        "rule_id": client.get("/api/v1/automations").json()["items"][0]["id"],
        "chat_id": chat["id"],
        "webhook_id": made(
            post(
                "/api/v1/webhooks",
                json={"url": "https://93.184.216.34/in", "events": ["item.created"]},
            )
        )["id"],
        "event": "item.created",
        "sha256": client.put(
            "/api/v1/admin/branding/logo",
            files={"file": ("l.png", b"\x89PNG\r\n\x1a\n" + b"0" * 9)},
        )
        .json()["logo_url"]
        .rsplit("/", 1)[-1],
        "hook_id": made(
            post(
                "/api/v1/hooks",
                json={"target_url": "https://93.184.216.34/zap", "event": "item.created"},
            )
        )["id"],
        "widget_id": made(
            post(
                "/api/v1/admin/widgets",
                json={"name": "Site", "allowed_origins": ["https://www.example.com"]},
            )
        )["id"],
        "token": "ldf_00000000000000000000000000000000_unknown",  # A form's confirmation
        "invitation": made(post(f"/api/v1/contacts/{contact['id']}/portal-invitations"))[
            "invitation"
        ],
    }
    return values, portal


def url(path: str, values: dict[str, str]) -> str:
    kind = "portal" if "/portal/" in path else "task" if path.startswith("/api/v1/tasks") else ""
    kind = "chat" if "/chats/" in path else kind or "ticket"
    filled = {
        **values,
        "number": values.get(kind),
        "attachment_id": values.get(f"{kind}_attachment"),
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(filled[m.group(1)]), path)


def queries(route: APIRoute, values: dict[str, str]) -> list[dict[str, str]]:
    """The required query parameters, then also every optional one that picks another path
    through the route (a moment in the past, one project, one item)."""
    known = {
        "project": values["project_id"],
        "month": "2026-12",
        "as_of": datetime.now(UTC).isoformat(),
        "item": values["task"],
        "item_type": "ticket",
        "from": "2026-01-01",
        "to": datetime.now(UTC).date().isoformat(),
        "scope": f"view:{values['view_id']}",
    }
    given = [p for d in (route.dependant, *_dependencies(route.dependant)) for p in d.query_params]
    required = {p.alias: known[p.alias] for p in given if p.field_info.is_required()}
    optional = {p.alias: known[p.alias] for p in given if p.alias in known}
    return [required, {**required, **optional}] if optional != required else [required]


def test_every_get_route_waits_for_each_view_it_reads(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given data behind every path, a project member besides the admin (whose reads take
    # other paths: an admin's scope needs no access view), and an app recording view reads
    values, portal = world(client)
    member = {"Authorization": f"Bearer {user_token(live, 'm@example.com')}"}
    member_id = client.get("/api/v1/me", headers=member).json()["id"]
    joined = client.put(
        f"/api/v1/projects/{values['project_id']}/members/{member_id}", json={"role": "standard"}
    )
    assert joined.status_code == 200, joined.text
    views = RecordingViews(live.views)
    audited = TestClient(create_app(replace(live.services(), views=views)))
    read_views: dict[str, set[str]] = {}
    unwaited: dict[str, set[str]] = {}
    for context in iter_route_contexts(audited.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        if route.response_class is EventSourceResponse:
            # A stream never ends; it resumes by its events' ids, not by waiting for views
            # (tests/api/test_streams.py).
            continue
        if route.path == "/metrics":
            # The operator's figures say how far the views are; they never wait for them
            # (tests/api/test_metrics.py).
            continue
        page = not route.path.startswith("/api/")
        callers = [portal] if "/portal/" in route.path else [dict(client.headers), member]
        if page:  # The customer pages: the same session, in their cookie.
            callers = [{"Cookie": f"ld_portal={portal['Authorization'].split()[1]}"}]
        for headers, params in product(callers, queries(route, values)):
            # When the route is called
            views.seen.clear()
            response = audited.get(
                url(route.path, values), params=params, headers=headers, follow_redirects=False
            )
            if page:
                assert response.status_code in (200, 303, 404), (route.path, response.text)
            elif headers is not member:  # A member may be refused; the admin never is.
                assert response.status_code == 200, (route.path, params, response.text)
            # Then every view it read is one it waited for
            read_views.setdefault(route.path, set()).update(views.seen)
            missing = views.seen - waited_for(route)
            if missing:
                unwaited.setdefault(route.path, set()).update(missing)
    assert unwaited == {}
    # And the recording saw the reads (the audit cannot pass by seeing nothing)
    assert read_views["/api/v1/tickets/{number}"] == {"ticket_detail", "access", "sla"}
    assert read_views["/api/v1/portal/tickets/{number}"] == {"portal"}
    assert read_views["/portal/items/{number}"] == {"portal"}
    assert len([path for path, seen in read_views.items() if seen]) >= 30
