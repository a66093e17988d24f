"""Item types and web forms in a real browser: a contact chooses the kind of request and fills
its fields; a visitor sends an anonymous form, and their request opens from the confirmation
link; every page is accessible (axe-core) and pictured in each of the four languages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from commands.mail.outgoing.account import link_of
from domain.mail.outgoing import OutboundMail
from tests.browser.conftest import Site, assert_accessible, screenshot
from tests.pages.helpers import contact, invitation_link, path_of
from tests.smtp_sink import running_sink

pytestmark = pytest.mark.xdist_group("browser")
PASSWORD = "correct horse battery"
LANGUAGES = ("en", "fr", "es", "de")
SEND = {"en": "Send request", "fr": "Envoyer la demande", "es": "Enviar solicitud",
        "de": "Anfrage senden"}  # fmt: skip


def confirmation_link(site: Site) -> str:
    """The link of the newest confirmation mail queued, as the mail carries it."""
    app = site.live.app
    queued = [
        n.originator_id
        for n in app.recorder.select_notifications(start=1, limit=1_000_000)
        if n.topic == "ledgerdesk:OutboundMail.Queued"
    ]
    mail = app.repository.get(queued[-1])
    assert isinstance(mail, OutboundMail)
    assert mail.kind == "form_confirmation"
    return path_of(link_of(mail, site.live.mail.secret, "http://x"))


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_types_and_forms_are_usable_accessible_and_pictured(page: Page, site: Site) -> None:
    admin = site.admin
    made = admin.post(
        "/api/v1/forms",
        json={"key": "bugs", "name": "Report a bug", "item_type": "bug_report",
              "anonymous": True, "intro": "Tell us what broke."},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    admin.post("/api/v1/forms", json={"key": "members", "name": "Members only"})
    admin.patch(
        "/api/v1/item-types/bug_report",
        json={"fields": [
            {"key": "title", "required": True}, {"key": "description"}, {"key": "priority"},
            {"key": "browser", "label": "Browser", "type": "choice",
             "choices": ["Firefox", "Chromium"], "required": True},
        ]},
    )  # fmt: skip
    with running_sink() as sink:
        smtp = {"host": sink.host, "port": sink.port, "security": "none"}
        assert admin.put("/api/v1/mail/settings", json={"smtp": smtp}).status_code == 200
        # A visitor, in each language: the anonymous form, then the mail to confirm
        for language in LANGUAGES:
            page.goto(f"/forms/bugs?lang={language}")
            expect(page.get_by_role("heading", name="Report a bug")).to_be_visible()
            assert_accessible(page)
            screenshot(page, "web-form", language)
            page.locator("#name").fill("Eve")
            page.locator("#email").fill(f"eve-{language}@example.org")
            page.locator("#field-title").fill(f"Search is down ({language})")
            page.locator("#field-browser").select_option("Firefox")
            page.wait_for_timeout(3100)  # A person takes a few seconds; a bot does not
            page.get_by_role("button", name=SEND[language]).click()
            expect(page.locator("h1")).to_have_count(1)
            assert f"eve-{language}@example.org" in page.content()
            assert_accessible(page)
            screenshot(page, "web-form-sent", language)
            page.goto(confirmation_link(site))
            assert_accessible(page)
            screenshot(page, "web-form-confirm", language)
            page.locator("form button").click()
            expect(page.get_by_text(re.compile(r"\d+"))).not_to_have_count(0)
            assert_accessible(page)
            screenshot(page, "web-form-confirmed", language)
            page.goto("/forms/members")
            assert_accessible(page)
            screenshot(page, "web-form-sign-in", language)
    # A contact, in English: chooses "Bug report" and fills its fields
    page.goto("/forms/bugs?lang=en")
    link = invitation_link(admin, contact(admin, "ada@acme.example"))
    page.goto(path_of(link))
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.goto("/portal/new")
    page.get_by_role("link", name="Bug report").click()
    # The link navigates: axe must see the new page, not the one being unloaded
    expect(page).to_have_url(re.compile(r"/portal/new\?type=bug_report$"))
    expect(page.get_by_label("Title")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "new-request-type", "en")
    page.get_by_label("Title").fill("Crash on save")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Send request").click()
    # The required choice left empty: the browser itself asks for it (required attribute)
    expect(page).to_have_url(re.compile(r"/portal/new\?type=bug_report$"))
    page.get_by_label("Browser").select_option("Chromium")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", name=re.compile("Crash on save"))).to_be_visible()
    for language in LANGUAGES[1:]:
        page.goto(f"/portal/new?type=bug_report&lang={language}")
        assert_accessible(page)
        screenshot(page, "new-request-type", language)
        page.goto(f"/forms/members?lang={language}")
        assert_accessible(page)
        screenshot(page, "web-form-signed-in", language)


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_the_other_pages_in_every_language_are_accessible_and_pictured(
    page: Page, site: Site
) -> None:
    """The pages a visitor meets besides the main ones: an invitation and its refusal, the
    link pages, a form refused or expired, a page not found, an app switched off."""
    admin = site.admin
    invitation = path_of(invitation_link(admin, contact(admin, "ada@acme.example")))
    pages = {
        "invite": invitation,  # Opening it uses nothing up
        "invitation-invalid": "/portal/invite/ldp_0_forged",
        "sign-in-link-invalid": "/portal/sign-in/lds_0_forged",
        "web-form-link-invalid": "/forms/confirm/ldf_0_forged",
        "web-form-unavailable": "/forms/nothing",
        "page-not-found": "/portal/items/0",
        "form-refused": "/portal/login?next=%2Fportal&q=%00",
        "kb-not-found": "/kb/no-such-article",
    }
    for language in LANGUAGES:
        for name, path in pages.items():
            page.goto(f"{path}{'&' if '?' in path else '?'}lang={language}")
            assert page.locator("html").get_attribute("lang") == language, name
            expect(page.locator("h1")).to_have_count(1)
            assert_accessible(page)
            screenshot(page, name, language)
        # A form sent without its token (expired): the page saying so
        page.goto(f"/portal/login?lang={language}")
        page.evaluate("document.querySelector('input[name=csrf]').value = 'stale'")
        page.locator("input[name=email]").fill("ada@acme.example")
        page.locator("input[name=password]").fill("whatever it is")
        page.locator("input[name=password]").press("Enter")
        expect(page.locator("input[name=password]")).to_have_count(0)  # Not the sign-in page
        expect(page.locator("h1")).to_have_count(1)
        assert_accessible(page)
        screenshot(page, "form-expired", language)
    # An app switched off
    admin.patch("/api/v1/admin/settings", json={"apps": {"knowledge_base": False}})
    for language in LANGUAGES:
        page.goto(f"/kb?lang={language}")
        assert_accessible(page)
        screenshot(page, "switched-off", language)
