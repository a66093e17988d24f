"""Everything a customer or staff member types is shown as text on every customer page: a
corpus of script-injection payloads goes through every rendered field (titles, descriptions,
messages by staff and customer, the contact's name, the company's name and logo, the search
box, the sign-in page's `next`), and in a real browser none of them runs. An internal
message's canary is on no customer page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Site
from tests.pages.helpers import contact, invitation_link, path_of

PAYLOADS = [
    line for line in (Path(__file__).parent / "xss_payloads.txt").read_text().splitlines() if line
]
# On one worker, one after another: one Chromium at a time on these two cores.
pytestmark = pytest.mark.xdist_group("browser")
PASSWORD = "correct horse battery"
CANARY = "CANARY-internal-2f9c1e"


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_no_payload_runs_on_any_customer_page(page: Page, site: Site) -> None:
    assert len(PAYLOADS) >= 50
    ran: list[str] = []
    page.expose_function("__xss", lambda: ran.append(page.url))
    page.on("dialog", lambda dialog: (ran.append(f"dialog on {page.url}"), dialog.dismiss()))
    admin = site.admin
    # Given the payloads in every field a customer page shows
    email = "ada@acme.example"
    ada = contact(admin, email)
    assert admin.patch(f"/api/v1/contacts/{ada}", json={"name": PAYLOADS[0]}).status_code == 200
    branded = admin.put(
        "/api/v1/mail/settings",
        json={
            "company_name": PAYLOADS[1],
            "logo_url": 'http://127.0.0.1:9/a.png" onerror="__xss()',
        },
    )
    assert branded.status_code == 200, branded.text
    numbers = []
    for payload in PAYLOADS:
        made = admin.post(
            "/api/v1/tickets",
            json={"title": payload, "description": payload, "requester_email": email},
        )
        assert made.status_code == 201, (payload, made.text)
        number = made.json()["number"]
        numbers.append(number)
        for body, visibility in ((payload, "customer"), (CANARY, "internal")):
            posted = admin.post(
                f"/api/v1/tickets/{number}/messages", json={"body": body, "visibility": visibility}
            )
            assert posted.status_code == 201, (payload, posted.text)
    # When the contact signs up, replies with each payload, and visits every page
    page.goto(path_of(invitation_link(admin, ada)))
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url("**/portal")
    seen: list[str] = []
    for number, payload in zip(numbers, PAYLOADS, strict=True):
        page.goto(f"/portal/items/{number}")
        page.get_by_label("Your message").fill(payload)
        page.get_by_role("button", name="Send reply").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", level=1).inner_text().endswith(payload.strip())
        seen.append(page.content())
    cursor_pages = ["/portal?show=all"]
    for url in cursor_pages:
        page.goto(url)
        seen.append(page.content())
        older = page.get_by_role("link", name="Older requests")
        if older.count():
            cursor_pages.append(older.get_attribute("href") or "")
    for payload in PAYLOADS[:20]:
        page.goto(f"/portal?show=all&q={quote(payload)}")
        seen.append(page.content())
    # The knowledge base: payloads as titles, categories and Markdown bodies
    slugs = []
    for payload in PAYLOADS:
        body = f"{payload}\n\n**{payload}** [{payload}]({payload})\n\nzebra"
        article = {"title": f"Guide {payload}", "category": payload, "body": body,
                   "status": "published"}  # fmt: skip
        made = admin.post("/api/v1/kb/articles", json=article)
        assert made.status_code == 201, (payload, made.text)
        slugs.append(made.json()["slug"])
    assert site.live.runner.wait_for(site.live.app.head(), ["kb"], 10)
    for path in ["/kb", "/kb/search?q=zebra", *(f"/kb/{slug}" for slug in slugs)]:
        page.goto(path)
        seen.append(page.content())
    for payload in PAYLOADS[:20]:
        page.goto(f"/kb/search?q={quote(payload)}")
        seen.append(page.content())
    # Item types and web forms: payloads as a type's name, custom field labels and choices,
    # and a form's name and intro; the contact opens the new-request page of each type
    for index, payload in enumerate(PAYLOADS[:20]):
        fields = [
            {"key": "title", "required": True},
            {"key": "extra", "label": payload, "type": "text"},
            {"key": "pick", "label": payload, "type": "choice", "choices": [payload]},
        ]
        made = admin.post(
            "/api/v1/item-types", json={"key": f"x{index}", "name": payload, "fields": fields}
        )
        assert made.status_code == 201, (payload, made.text)
        form = {
            "key": f"f{index}",
            "name": payload,
            "intro": payload,
            "item_type": f"x{index}",
            "anonymous": True,
        }
        assert admin.post("/api/v1/forms", json=form).status_code == 201, payload  # fmt: skip
        for path in (f"/portal/new?type=x{index}", f"/forms/f{index}"):
            page.goto(path)
            seen.append(page.content())
    page.context.clear_cookies()
    for index in range(20):
        page.goto(f"/forms/f{index}")  # Signed out: the prompt to sign in, with the payloads
        seen.append(page.content())
    for payload in PAYLOADS[:10]:
        page.goto(f"/portal/login?next={quote('/portal' + payload)}")
        seen.append(page.content())
    # Then nothing ran, and no internal message was on any page
    assert not ran, ran
    assert not [html for html in seen if CANARY in html]
    assert len(cursor_pages) >= 3  # Every page of the list was seen.
