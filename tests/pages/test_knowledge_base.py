"""The knowledge base on both backends: staff write articles through the API (every edit a
version in its history, the slug from the title and stable once published); the `/kb`
pages show each reader exactly what they may read — in the listing, the article, the search
results and their snippets — with the Markdown rendered and made safe."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.pages.test_portal_pages import signed_up


@pytest.fixture
def browser(live: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(live.http_app()) as http:
        yield http


def write(client: TestClient, **fields: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/kb/articles", json={"status": "published", **fields})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def fresh(live: bootstrap.Container) -> dict[str, str]:
    """Wait until the views have every write so far (an anonymous reader's X-Min-Position is
    not waited for: nobody waits who is not signed in)."""
    assert live.runner.wait_for(live.app.head(), ["kb", "portal"], 10)
    return {}


def test_articles_are_written_revised_published_and_deleted_with_history(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    draft = write(client, title="How do I reset my password?", body="Use **Forgot**.",
                  category="Accounts", status="draft")  # fmt: skip
    assert draft["slug"] == "how-do-i-reset-my-password"
    assert "<strong>Forgot</strong>" in draft["body_html"]
    # A draft is on no page; its slug follows its title until it is published
    assert browser.get(f"/kb/{draft['slug']}", headers=fresh(live)).status_code == 404
    path = f"/api/v1/kb/articles/{draft['id']}"
    renamed = client.patch(path, json={"title": "Resetting your password"}).json()
    assert renamed["slug"] == "resetting-your-password"
    published = client.patch(path, json={"status": "published"}).json()
    assert published["published_at"] is not None
    page = browser.get("/kb/resetting-your-password", headers=fresh(live))
    assert page.status_code == 200
    assert "<strong>Forgot</strong>" in page.text
    # Once published, the address stays whatever the title becomes
    moved = client.patch(path, json={"title": "Reset a password"}).json()
    assert moved["slug"] == "resetting-your-password"
    # Another article of the same title gets the next slug
    assert write(client, title="Reset a password")["slug"] == "reset-a-password"
    assert write(client, title="Reset a password")["slug"] == "reset-a-password-2"
    # Every edit is a version in the history
    history = client.get(f"{path}/history").json()["items"]
    assert [h["event"] for h in history] == ["Written", "Revised", "StatusChanged", "Revised"]
    assert history[0]["title"] == "How do I reset my password?"
    # Stale If-Match is refused, a bad value is named, nothing is written
    stale = client.patch(path, json={"body": "x"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    bad = client.patch(path, json={"visibility": "organisations"})
    assert bad.status_code == 422
    assert "organisations" in bad.text
    assert len(client.get(f"{path}/history").json()["items"]) == 4
    # Deleted, it leaves every page and search at once
    assert client.delete(path).status_code == 204
    assert browser.get("/kb/resetting-your-password", headers=fresh(live)).status_code == 404
    assert "Forgot" not in browser.get("/kb/search", params={"q": "forgot"}).text
    assert client.get(path).status_code == 404


def test_each_reader_sees_only_what_they_may_read_even_in_search_snippets(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    acme = client.post("/api/v1/customers", json={"name": "Acme", "sharing": "none"}).json()
    globex = client.post("/api/v1/customers", json={"name": "Globex", "sharing": "none"}).json()
    client.post(
        "/api/v1/contacts", json={"email": "ada@acme.example", "organisation_id": acme["id"]}
    )
    write(client, title="Printer setup", body="Plug the printer zebrapublic in.")
    write(client, title="Customer printer tips", body="zebracustomers tips for printers.",
          visibility="customers")  # fmt: skip
    write(client, title="Acme printer fleet", body="zebraacme fleet of printers.",
          visibility="organisations", organisations=[acme["id"]])  # fmt: skip
    write(client, title="Globex printer fleet", body="zebraglobex fleet of printers.",
          visibility="organisations", organisations=[globex["id"]])  # fmt: skip
    write(client, title="Printer internals", body="zebrastaff secret printer notes.",
          visibility="staff")  # fmt: skip
    write(client, title="Printer draft", body="zebradraft unfinished.", status="draft")

    def seen(page: str) -> set[str]:
        return {w for w in ("zebrapublic", "zebracustomers", "zebraacme", "zebraglobex",
                            "zebrastaff", "zebradraft", "Acme printer", "Globex printer",
                            "Printer internals", "Printer draft", "Customer printer")
                if w in page}  # fmt: skip

    # Anyone: the public article only, in the listing, the article and the search
    anonymous = browser.get("/kb", headers=fresh(live)).text
    assert seen(anonymous) == set()
    assert "Printer setup" in anonymous
    found = browser.get("/kb/search", params={"q": "printer"}).text
    assert seen(found) <= {"zebrapublic"}
    assert "Printer setup" in found
    for slug in ("customer-printer-tips", "acme-printer-fleet", "printer-internals",
                 "printer-draft"):  # fmt: skip
        assert browser.get(f"/kb/{slug}").status_code == 404
    # A contact of Acme: also the customers' and Acme's
    signed_up(client, browser, "ada@acme.example")
    listing = browser.get("/kb").text
    assert seen(listing) == {"Customer printer", "Acme printer"}
    results = browser.get("/kb/search", params={"q": "printers"}).text
    assert "Globex" not in results
    assert "zebrastaff" not in results
    assert "zebraglobex" not in results
    assert "zebraacme" in results  # In the snippet, marked
    assert "<mark>" in results
    assert browser.get("/kb/globex-printer-fleet").status_code == 404
    # Staff see them all through the API, drafts and staff-only too
    titles = {a["title"] for a in client.get("/api/v1/kb/articles").json()["items"]}
    assert {"Printer internals", "Printer draft", "Globex printer fleet"} <= titles
    searched = client.get("/api/v1/kb/articles", params={"q": "zebrastaff"}).json()["items"]
    assert [a["title"] for a in searched] == ["Printer internals"]


def test_markdown_is_rendered_safe_and_the_switch_hides_the_pages(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    body = ("# Steps\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1))\n\n"
            '<img src=x onerror="alert(1)">\n\n| a | b |\n|---|---|\n| 1 | 2 |\n')  # fmt: skip
    article = write(client, title="Unsafe things", body=body)
    html = article["body_html"]
    assert "<script" not in html
    assert 'href="javascript:' not in html  # The link is refused: its text stays text
    assert "<img" not in html  # Raw HTML is shown as text, never as markup
    assert "<table>" in html
    page = browser.get("/kb/unsafe-things", headers=fresh(live)).text
    assert "<script>alert(1)</script>" not in page
    # Switched off, the pages say so, and so does the API (the articles stay)
    client.patch("/api/v1/admin/settings", json={"apps": {"knowledge_base": False}})
    off = browser.get("/kb")
    assert off.status_code == 404
    assert "switched off" in off.text
    assert browser.get("/kb/unsafe-things").status_code == 404
    assert client.get(f"/api/v1/kb/articles/{article['id']}").status_code == 404
    client.patch("/api/v1/admin/settings", json={"apps": {"knowledge_base": True}})
    assert client.get(f"/api/v1/kb/articles/{article['id']}").status_code == 200
