"""The portal in a real browser: a contact follows the invitation link, chooses a password,
finds their request, reads the answer and replies, and follows a project shared with their
organisation; every page is accessible (axe-core: no serious or critical violation) and
pictured in each of the four languages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, assert_accessible, screenshot
from tests.pages.helpers import contact, invitation_link, path_of, ticket

# On one worker, one after another: one Chromium at a time on these two cores.
pytestmark = pytest.mark.xdist_group("browser")
PASSWORD = "correct horse battery"


def test_a_contact_signs_up_from_the_invitation_and_replies(page: Page, site: Site) -> None:
    admin = site.admin
    # Given a contact with a request the team has answered
    number = ticket(admin, "ada@acme.example", "Invoice is wrong")
    admin.post(
        f"/api/v1/tickets/{number}/messages",
        json={"body": "We are looking into it.", "visibility": "customer"},
    )
    link = invitation_link(admin, contact(admin, "ada@acme.example"))
    # When they open the invitation link and choose a password
    page.goto(path_of(link))
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    # Then they land signed in on their requests, and find this one
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Invoice is wrong").click()
    expect(page.get_by_text("We are looking into it.")).to_be_visible()
    assert_accessible(page)
    # When they reply
    page.get_by_label("Your message").fill("Thank you, the total should be 120 EUR.")
    page.get_by_role("button", name="Send reply").click()
    # Then the reply is on the request, and the team sees it too
    expect(page.get_by_text("the total should be 120 EUR")).to_be_visible()
    detail = admin.get(
        f"/api/v1/tickets/{number}", headers={"X-Min-Position": str(site.live.app.head())}
    ).json()
    assert any("120 EUR" in m["body"] for m in detail["messages"])
    # When they open a new request with a file, from the page
    page.goto("/portal")
    page.get_by_role("link", name="New request").click()
    expect(page.get_by_label("Title")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Title").fill("Scanner broken")
    page.get_by_label("Describe what you need").fill("It shows error 42.")
    page.get_by_label("Attach files (optional)").set_input_files(
        files=[{"name": "error.txt", "mimeType": "text/plain", "buffer": b"error 42"}]
    )
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name=re.compile("Scanner broken"))).to_be_visible()
    expect(page.get_by_role("link", name="error.txt")).to_be_visible()
    # And a reply with no file chosen goes through (the browser sends an empty file part)
    page.get_by_label("Your message").fill("One more detail.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("One more detail.")).to_be_visible()
    # And signing out ends it
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/portal")
    expect(page).to_have_url(re.compile(r"/portal/login\?next=/portal$"))


def shared_project(admin: TestClient, organisation_id: str) -> str:
    """A project shared with the organisation: a request, and a task planned around today,
    started and 40 % done."""
    project = admin.post("/api/v1/projects", json={"name": "Website relaunch"}).json()["id"]
    today = date.today()
    admin.post("/api/v1/tickets", json={"title": "Hero image broken", "project_id": project})
    start, finish = today - timedelta(days=7), today + timedelta(days=14)
    task = {"title": "Design the home page", "project_id": project, "start": str(start),
            "finish": str(finish)}  # fmt: skip
    number = admin.post("/api/v1/tasks", json=task).json()["number"]
    progress = {"percent_complete": 40, "actual_start": str(today - timedelta(days=5))}
    assert admin.patch(f"/api/v1/tasks/{number}", json=progress).status_code == 200
    assert admin.put(f"/api/v1/projects/{project}/shares/{organisation_id}").status_code == 200
    return str(project)


def test_every_page_in_every_language_is_translated_accessible_and_pictured(
    page: Page, site: Site
) -> None:
    admin = site.admin
    acme = admin.post("/api/v1/customers", json={"name": "Acme"}).json()["id"]
    contact(admin, "ada@acme.example", acme)
    project = shared_project(admin, acme)
    number = ticket(admin, "ada@acme.example", "Printer jammed")
    article = {"title": "Clearing a paper jam", "category": "Printers", "status": "published",
               "body": "1. Open the **front** cover.\n2. Pull the paper out.\n"}  # fmt: skip
    assert admin.post("/api/v1/kb/articles", json=article).status_code == 201
    link = invitation_link(admin, contact(admin, "ada@acme.example"))
    page.goto(path_of(link))
    screenshot(page, "invite", "en")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    headings = {"en": "My requests", "fr": "Mes demandes", "es": "Mis solicitudes",
                "de": "Meine Anfragen"}  # fmt: skip
    names = {"en": "English", "fr": "Français", "es": "Español", "de": "Deutsch"}
    for language, heading in headings.items():
        # The language switch on the page, remembered for the pages after it
        page.get_by_role(
            "navigation", name=re.compile("Language|Langue|Idioma|Sprache")
        ).get_by_role("link", name=names[language]).click()
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        screenshot(page, "requests", language)
        page.goto(f"/portal/items/{number}")
        expect(page.get_by_role("heading", name=re.compile("Printer jammed"))).to_be_visible()
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        screenshot(page, "request", language)
        page.goto("/portal/items/99999")
        assert_accessible(page)
        screenshot(page, "not-found", language)
        page.goto("/portal/projects")
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        screenshot(page, "projects", language)
        page.get_by_role("link", name="Website relaunch").click()
        expect(page.get_by_role("heading", name="Website relaunch")).to_be_visible()
        expect(page.locator("svg.timeline rect.planned")).to_have_count(1)
        assert_accessible(page)
        screenshot(page, "project", language)
        for name, path in (("kb", "/kb"), ("kb-article", "/kb/clearing-a-paper-jam"),
                           ("kb-search", "/kb/search?q=paper")):  # fmt: skip
            page.goto(path)
            expect(page.get_by_text("Clearing a paper jam").first).to_be_visible()
            assert page.locator("html").get_attribute("lang") == language
            assert_accessible(page)
            screenshot(page, name, language)
        page.goto("/portal")
    # A shared project's page needs no sideways scrolling on a phone (its table scrolls)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/portal/projects/{project}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 720})
    # Signed out, the sign-in page in each language
    page.context.clear_cookies()
    for language in headings:
        page.goto(f"/portal/login?lang={language}")
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
        screenshot(page, "sign-in", language)
    # And on a phone's width nothing needs sideways scrolling
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/portal/login")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
