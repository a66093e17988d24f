"""The portal's pages refuse what no store keeps and never lead elsewhere, on both backends:
form fields and file names with a control character or over the length limit are refused
with a page naming them (nothing written); a `next` address leads only to a portal page; a
page's bad parameter answers a page, not JSON; search folds case as Python does and takes
wildcards literally; files are limited one by one; a file added to the task a request became
downloads; another site's link records no read; after a form the language switch reloads the
form's page; the knowledge base keeps /kb/search for search and snippets show text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.pages.config import PagesConfig
from api.pages.security import security_headers
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.pages.helpers import csrf_of, ticket
from tests.pages.test_knowledge_base import fresh, write
from tests.pages.test_portal_pages import PASSWORD, signed_up


@pytest.fixture
def browser(live: bootstrap.Container) -> Iterator[TestClient]:
    with TestClient(live.http_app()) as http:
        yield http


def test_fields_that_cannot_be_kept_are_refused_with_a_page_naming_them(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    page = browser.get(f"/portal/items/{number}", headers={"X-Min-Position": str(live.app.head())})
    token = csrf_of(page.text)
    head = live.app.head()
    nul = browser.post(f"/portal/items/{number}/reply", data={"csrf": token, "body": "a\x00b"})
    assert nul.status_code == 422
    assert nul.headers["content-type"].startswith("text/html")
    assert "Form not accepted" in nul.text
    assert "“Your message” holds a character that cannot be kept" in nul.text
    # (a browser percent-encodes controls in a file name; another client may not)
    raw = (
        f'--b\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'
        '--b\r\nContent-Disposition: form-data; name="body"\r\n\r\nfine\r\n'
        '--b\r\nContent-Disposition: form-data; name="attachments"; filename="bad\x01.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nx\r\n--b--\r\n"
    ).encode()
    named = browser.post(
        f"/portal/items/{number}/reply",
        content=raw,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert (named.status_code, "“Attachments”" in named.text) == (422, True)
    long = browser.post(
        "/portal/new", data={"csrf": token, "title": "T", "description": "x" * 200_001}
    )
    assert long.status_code == 422
    assert "“Description” is longer than we accept (200,000 characters)" in long.text
    assert live.app.head() == head
    # A page's bad parameter answers a page too
    query = browser.get("/portal", params={"q": "\x00"})
    assert (query.status_code, query.headers["content-type"][:9]) == (422, "text/html")
    assert "“Search” holds a character" in query.text
    out_of_range = browser.get("/portal/items/0")
    assert (out_of_range.status_code, out_of_range.headers["content-type"][:9]) == (
        404,
        "text/html",
    )
    # The API still answers its problem
    problem = client.get("/api/v1/tickets", params={"q": "\x00"})
    assert problem.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "wanted",
    [
        "//evil.example/portal",
        "https://evil.example/portal",
        "/portal/../api/v1/users",
        "/portal/./items",
        "/portal\\evil.example",
        "/portal\r\nSet-Cookie: x=1",
        "/portal/caf\u00e9",
        "/portalx",
        "/portal?next=\u2028",
    ],
)
def test_next_leads_only_to_a_portal_page(
    client: TestClient, browser: TestClient, wanted: str
) -> None:
    signed_up(client, browser, "ada@acme.example")
    browser.cookies.delete("ld_portal")
    login = browser.get("/portal/login")
    signed = browser.post(
        "/portal/login",
        data={"csrf": csrf_of(login.text), "email": "ada@acme.example", "password": PASSWORD,
              "next": wanted},
        follow_redirects=False,
    )  # fmt: skip
    assert (signed.status_code, signed.headers["location"]) == (303, "/portal")
    shown = browser.get("/portal/login", params={"next": wanted}, follow_redirects=False)
    assert shown.headers["location"] == "/portal"


def test_next_keeps_a_portal_page_and_its_query(client: TestClient, browser: TestClient) -> None:
    signed_up(client, browser, "ada@acme.example")
    browser.cookies.delete("ld_portal")
    asked = browser.get("/portal", params={"show": "all", "q": "caf\u00e9"}, follow_redirects=False)
    assert (
        asked.headers["location"] == "/portal/login?next=/portal%3Fshow%3Dall%26q%3Dcaf%25C3%25A9"
    )
    login = browser.get(asked.headers["location"])
    signed = browser.post(
        "/portal/login",
        data={"csrf": csrf_of(login.text), "email": "ada@acme.example", "password": PASSWORD,
              "next": "/portal?show=all&q=caf%C3%A9"},
        follow_redirects=False,
    )  # fmt: skip
    assert signed.headers["location"] == "/portal?show=all&q=caf%C3%A9"


def test_search_folds_case_as_python_does_and_takes_wildcards_literally(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    for title in ("Élan printer", "50% off the STRASSE plan", "a_b config", "axb config"):
        ticket(client, "ada@acme.example", title)
    wait = {"X-Min-Position": str(live.app.head())}

    def found(q: str) -> set[str]:
        page = browser.get("/portal", params={"q": q, "show": "all"}, headers=wait).text
        titles = ("Élan printer", "50% off the STRASSE plan", "a_b config", "axb config")
        return {t for t in titles if t in page.replace("&#39;", "'")}

    assert found("élan") == found("ÉLAN") == {"Élan printer"}
    assert found("straße") == {"50% off the STRASSE plan"}
    assert found("%") == {"50% off the STRASSE plan"}
    assert found("a_b") == {"a_b config"}
    assert found("_") == {"a_b config"}


@pytest.fixture
def small(settings: Settings) -> Iterator[bootstrap.Container]:
    """An install that takes files of at most 100 bytes each."""
    configured = settings.model_copy(update={"max_attachment_bytes": 100})
    bootstrap.migrate(configured)
    container = bootstrap.build(configured)
    container.follow()
    yield container
    container.close()


def test_files_are_limited_one_by_one_and_an_oversized_form_answers_a_page(
    small: bootstrap.Container,
) -> None:
    with TestClient(small.http_app()) as admin, TestClient(small.http_app()) as browser:
        from tests.factories import admin_token

        admin.headers["Authorization"] = f"Bearer {admin_token(small)}"
        signed_up(admin, browser, "ada@acme.example")
        form = browser.get("/portal/new")
        two = browser.post(
            "/portal/new",
            data={"csrf": csrf_of(form.text), "title": "Two files"},
            files=[("attachments", ("a.txt", b"a" * 90, "text/plain")),
                   ("attachments", ("b.txt", b"b" * 90, "text/plain"))],
            follow_redirects=False,
        )  # fmt: skip
        assert two.status_code == 303, two.text
        head = small.app.head()
        huge = browser.post(
            "/portal/new",
            data={"csrf": csrf_of(form.text), "title": "Huge"},
            files=[("attachments", ("c.bin", b"c" * 70_000, "application/octet-stream"))],
        )
        assert huge.status_code == 413
        assert huge.headers["content-type"].startswith("text/html")
        assert "at most 100 bytes per file" in huge.text
        assert small.app.head() == head


def test_a_file_added_to_the_task_a_request_became_downloads(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    project = client.post("/api/v1/projects", json={"name": "Fixes"}).json()["id"]
    converted = client.post(f"/api/v1/tickets/{number}/conversion", json={"project_id": project})
    assert converted.status_code == 201, converted.text
    task = converted.json()["number"]
    files = {"file": ("plan.pdf", b"%PDF-1.4 plan", "application/pdf")}
    added = client.post(
        f"/api/v1/tasks/{task}/attachments", files=files, data={"visibility": "customer"}
    )
    assert added.status_code == 201, added.text
    wait = {"X-Min-Position": str(live.app.head())}
    page = browser.get(f"/portal/items/{number}", headers=wait)
    assert "plan.pdf" in page.text
    got = browser.get(
        f"/portal/items/{number}/attachments/{added.headers['X-Attachment-ID']}", headers=wait
    )
    assert (got.status_code, got.content) == (200, b"%PDF-1.4 plan")


def test_another_sites_link_records_no_read(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    signed_up(client, browser, "ada@acme.example")
    number = ticket(client, "ada@acme.example")
    client.post(f"/api/v1/tickets/{number}/messages", json={"body": "Hi", "visibility": "customer"})
    wait = {"X-Min-Position": str(live.app.head())}
    head = live.app.head()
    crossed = browser.get(
        f"/portal/items/{number}", headers={**wait, "Sec-Fetch-Site": "cross-site"}
    )
    assert crossed.status_code == 200
    assert live.app.head() == head
    ours = browser.get(f"/portal/items/{number}", headers={**wait, "Sec-Fetch-Site": "same-origin"})
    assert ours.status_code == 200
    assert live.app.head() > head


def test_after_a_form_the_language_switch_reloads_the_forms_page(browser: TestClient) -> None:
    login = browser.get("/portal/login", params={"next": "/portal/items/3"})
    answer = browser.post(
        "/portal/login",
        data={"csrf": csrf_of(login.text), "email": "x@acme.example", "password": "wrong"},
        headers={"Referer": "http://testserver/portal/login?next=/portal/items/3"},
    )
    assert answer.status_code == 401
    assert 'href="/portal/login?next=%2Fportal%2Fitems%2F3&amp;lang=fr"' in answer.text
    elsewhere = browser.post(
        "/portal/login",
        data={"csrf": csrf_of(login.text), "email": "x@acme.example", "password": "wrong"},
        headers={"Referer": "https://evil.example/portal/items"},
    )
    assert 'href="/portal?lang=fr"' in elsewhere.text
    # A path of ours that a browser would read as another host's is not taken either
    double = browser.post(
        "/portal/login",
        data={"csrf": csrf_of(login.text), "email": "x@acme.example", "password": "wrong"},
        headers={"Referer": "http://testserver//evil.example/x"},
    )
    assert 'href="/portal?lang=fr"' in double.text
    assert "evil.example" not in double.text


def test_the_search_page_keeps_its_address_and_snippets_show_text(
    client: TestClient, browser: TestClient, live: bootstrap.Container
) -> None:
    article = write(client, title="Search", body="Fish & chips, *fried* zebrafry.")
    assert article["slug"] == "search-2"
    assert "Fish &amp; chips" in browser.get("/kb/search-2", headers=fresh(live)).text
    results = browser.get("/kb/search", params={"q": "zebrafry"}).text
    assert "Fish &amp; chips" in results
    assert "&amp;amp;" not in results


def test_an_http_logo_is_allowed_by_its_origin_only() -> None:
    from starlette.responses import Response

    config = PagesConfig(
        sign_in=None,  # type: ignore[arg-type]
        secret=b"k", frame_ancestors="'none'", session_seconds=60, secure_cookies=False,
    )  # fmt: skip
    response = Response()
    security_headers(response, config, "http://cdn.example:8080/logo.png")
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https: http://cdn.example:8080;" in policy
    security_headers(response, config, "https://cdn.example/logo.png")
    assert "img-src 'self' data: https:;" in response.headers["Content-Security-Policy"]
