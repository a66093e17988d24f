"""The widget in a real browser: a shop's page on another site embeds the pasted snippet; a
customer opens the launcher, signs in, starts a chat; an agent's reply (through the API)
appears in the widget without a reload; the agent turns the chat into a ticket, which the
customer then finds under My requests. A site the widget does not allow gets no frame."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import (
    APIResponse,
    Browser,
    Frame,
    FrameLocator,
    Locator,
    Page,
    Route,
    expect,
)
from pydantic import SecretStr

from commands.models import Context
from commands.portal_sign_in import AcceptPortalInvitation, PortalSignIn
from domain.values import Actor
from tests.browser.conftest import AXE, Site
from tests.pages.helpers import contact, invitation_link

pytestmark = pytest.mark.xdist_group("browser")
PASSWORD = "correct horse battery"


class Shop:
    """A website of its own, at http://localhost:<port> (another site than the install's
    127.0.0.1), whose one page carries the `snippet` pasted into it."""

    def __init__(self) -> None:
        self.origin = ""
        self.snippet = ""

    def page(self) -> bytes:
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Acme shop"
            f"</title></head><body><h1>Acme shop</h1><p>Welcome.</p>{self.snippet}</body></html>"
        ).encode()


@contextmanager
def host_site() -> Iterator[Shop]:
    shop = Shop()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = shop.page()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    shop.origin = f"http://localhost:{server.server_address[1]}"
    try:
        yield shop
    finally:
        server.shutdown()
        server.server_close()


def snippet_for(site: Site, widget_id: str) -> str:
    """The admin's snippet, pointed at where the test serves the install."""
    found = site.admin.get(f"/api/v1/admin/widgets/{widget_id}/snippet").json()
    return str(found["snippet"]).replace(found["install_url"], site.base)


def customer_with_password(site: Site, email: str) -> None:
    link = invitation_link(site.admin, contact(site.admin, email))
    invitation = link.rsplit("/", 1)[1]
    cmd = AcceptPortalInvitation(invitation=SecretStr(invitation), password=SecretStr(PASSWORD))
    sign_in = PortalSignIn(site.live.app, timedelta(hours=1))
    sign_in.accept_invitation(cmd, Context(actor=Actor.system("test"), correlation_id="t"))


def opened_widget(shop_page: Page, site: Site, shop: Shop) -> FrameLocator:
    """A widget for the shop, its snippet pasted into the shop's page, the page opened in
    the browser and the launcher clicked: the widget's frame."""
    made = site.admin.post(
        "/api/v1/admin/widgets", json={"name": "Shop", "allowed_origins": [shop.origin]}
    )
    assert made.status_code == 201, made.text
    shop.snippet = snippet_for(site, made.json()["id"])
    shop_page.goto(shop.origin)
    shop_page.get_by_role("button", name=re.compile("support$")).click()
    return shop_page.frame_locator("iframe[data-ledgerdesk=frame]")


def signed_in(frame: FrameLocator, email: str) -> Locator:
    """The customer signs in under My requests (as a customer with a password); that tab."""
    frame.get_by_role("tab", name="My requests").click()
    mine = frame.get_by_role("tabpanel", name="My requests")
    mine.get_by_label("Email").fill(email)
    mine.get_by_label("Password").fill(PASSWORD)
    mine.get_by_role("button", name="Sign in").click()
    expect(mine.get_by_text("You have no requests yet.")).to_be_visible()
    return mine


@pytest.fixture
def shop_page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="en-GB")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def test_a_customer_chats_from_a_website_and_finds_the_ticket_under_my_requests(
    shop_page: Page, site: Site
) -> None:
    admin = site.admin
    customer_with_password(site, "ann@example.com")
    with host_site() as shop:
        # The admin defines a widget for the shop and pastes its snippet into the page
        made = admin.post(
            "/api/v1/admin/widgets", json={"name": "Shop", "allowed_origins": [shop.origin]}
        )
        assert made.status_code == 201, made.text
        widget_id = made.json()["id"]
        shop.snippet = snippet_for(site, widget_id)
        shop_page.goto(shop.origin)
        launcher = shop_page.get_by_role("button", name=re.compile("support$"))
        expect(launcher).to_be_visible()
        launcher.click()
        frame = shop_page.frame_locator("iframe[data-ledgerdesk=frame]")
        tabs = frame.get_by_role("tab")
        expect(tabs).to_have_text(["Chat", "New request", "My requests", "Help"])

        # The customer signs in under My requests
        mine = signed_in(frame, "ann@example.com")

        # and starts a chat
        frame.get_by_role("tab", name="Chat").click()
        chat = frame.get_by_role("tabpanel", name="Chat")
        expect(chat.get_by_label("Your name")).to_be_hidden()  # Signed in: we know them.
        chat.get_by_label("Your message").fill("My printer is on fire")
        chat.get_by_role("button", name="Start chat").click()
        expect(frame.locator(".transcript").get_by_text("My printer is on fire")).to_be_visible()

        # An agent answers through the API: it appears without a reload
        chats = admin.get("/api/v1/chats", params={"state": "waiting"}).json()["items"]
        assert len(chats) == 1, chats
        chat_id = chats[0]["id"]
        assert admin.post(f"/api/v1/chats/{chat_id}/claim").status_code == 200
        answered = admin.post(f"/api/v1/chats/{chat_id}/messages", json={"body": "Unplug it"})
        assert answered.status_code == 201, answered.text
        expect(frame.locator(".transcript").get_by_text("Unplug it")).to_be_visible()

        # The customer answers back; the agent sees it
        chat.get_by_label("Write a message").fill("Done, it is out")
        chat.get_by_role("button", name="Send").click()
        expect(frame.locator(".transcript").get_by_text("Done, it is out")).to_be_visible()

        # Files both ways: the customer's reaches the agent, the agent's downloads in the widget
        upload = {"name": "error.txt", "mimeType": "text/plain", "buffer": b"E42 paper jam"}
        chat.get_by_label("Attach a file").set_input_files(files=[upload])
        chat.get_by_role("button", name="Send").click()
        transcript = frame.locator(".transcript")
        expect(transcript.get_by_role("button", name="error.txt")).to_be_visible()
        sent = admin.get(f"/api/v1/chats/{chat_id}").json()["messages"][-1]["attachments"][0]
        got = admin.get(f"/api/v1/chats/{chat_id}/attachments/{sent['id']}")
        assert got.content == b"E42 paper jam"
        manual = {"file": ("manual.txt", b"Step 1: unplug", "text/plain")}
        assert admin.post(f"/api/v1/chats/{chat_id}/attachments", files=manual).status_code == 201
        with shop_page.expect_download() as downloaded:
            transcript.get_by_role("button", name="manual.txt").click()
        assert Path(downloaded.value.path()).read_bytes() == b"Step 1: unplug"

        # The agent turns the chat into a ticket: the widget says so
        converted = admin.post(f"/api/v1/chats/{chat_id}/conversion", json={"kind": "ticket"})
        assert converted.status_code == 201, converted.text
        number = converted.json()["number"]
        expect(frame.get_by_text(f"request #{number}")).to_be_visible()

        # and the customer finds it under My requests, with the conversation
        frame.get_by_role("tab", name="My requests").click()
        request = frame.get_by_role("button", name=re.compile(f"#{number} My printer is on fire"))
        expect(request).to_be_visible()
        request.click()
        expect(frame.locator("[data-request-messages]").get_by_text("Unplug it")).to_be_visible()

        # The frame is accessible, and the close button hands focus back to the launcher
        frame.get_by_role("tab", name="Help").click()
        inner = shop_page.frame(url=re.compile(f"/widget/{widget_id}$"))
        assert inner is not None
        assert_accessible_frame(inner)
        frame.get_by_role("button", name="Close").click()
        expect(shop_page.locator("iframe[data-ledgerdesk=frame]")).to_be_hidden()
        expect(launcher).to_be_focused()

        # Signing out leaves nothing of the customer on the screen: no chat, no requests
        launcher.click()
        frame.get_by_role("tab", name="My requests").click()
        frame.get_by_role("button", name="Sign out").click()
        expect(mine.get_by_label("Password")).to_be_visible()
        expect(frame.locator(".request-list li")).to_have_count(0)
        frame.get_by_role("tab", name="Chat").click()
        expect(chat.get_by_role("button", name="Start chat")).to_be_visible()
        expect(frame.locator("[data-view=chat-open] .transcript li")).to_have_count(0)


def assert_accessible_frame(frame: Frame) -> None:
    """axe-core's serious and critical violations inside the widget's frame: none."""
    frame.evaluate(AXE.read_text())  # By the DevTools protocol: the frame's CSP allows no inline.
    found = frame.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    bad = [v["id"] for v in found if v.get("impact") in ("serious", "critical")]
    assert not bad, bad


def test_a_site_the_widget_does_not_allow_gets_no_frame(shop_page: Page, site: Site) -> None:
    made = site.admin.post(
        "/api/v1/admin/widgets",
        json={"name": "Shop", "allowed_origins": ["https://www.example.com"]},
    )
    widget_id = made.json()["id"]
    with host_site() as shop:
        shop.snippet = snippet_for(site, widget_id)
        shop_page.goto(shop.origin)
        shop_page.wait_for_load_state("networkidle")
        # The face is not shared with this site (CORS): no launcher at all
        assert shop_page.locator("[data-ledgerdesk]").count() == 0
        # and a frame it makes by hand is refused by the browser (frame-ancestors): the
        # install answers, but the frame never shows it
        with shop_page.expect_response(re.compile(f"/widget/{widget_id}$")) as answered:
            shop_page.evaluate(
                "src => { const f = document.createElement('iframe'); f.src = src;"
                " document.body.appendChild(f); }",
                f"{site.base}/widget/{widget_id}",
            )
        assert answered.value.status == 200
        frame = shop_page.locator("iframe").element_handle().content_frame()
        assert frame is not None
        frame.wait_for_load_state()
        assert not frame.url.endswith(f"/widget/{widget_id}")  # The browser's error page
        assert frame.locator("[role=tab]").count() == 0


def test_without_the_portal_the_widget_opens_on_help(shop_page: Page, site: Site) -> None:
    admin = site.admin
    article = {"title": "Clear a jam", "body": "Open the tray.", "status": "published"}
    assert admin.post("/api/v1/kb/articles", json=article).status_code == 201
    assert admin.patch("/api/v1/admin/settings", json={"apps": {"portal": False}}).is_success
    with host_site() as shop:
        frame = opened_widget(shop_page, site, shop)
        expect(frame.get_by_role("tab")).to_have_text(["Help"])
        help_panel = frame.get_by_role("tabpanel", name="Help")
        help_panel.get_by_role("button", name="Clear a jam").click()
        expect(help_panel.get_by_text("Open the tray.")).to_be_visible()


def test_a_customer_sends_a_request_of_a_type_with_its_own_fields(
    shop_page: Page, site: Site
) -> None:
    admin = site.admin
    admin.patch(
        "/api/v1/item-types/bug_report",
        json={"fields": [
            {"key": "title", "required": True}, {"key": "description", "required": True},
            {"key": "browser", "label": "Browser", "type": "choice",
             "choices": ["Firefox", "Chromium"], "required": True},
        ]},
    )  # fmt: skip
    customer_with_password(site, "ann@example.com")
    with host_site() as shop:
        frame = opened_widget(shop_page, site, shop)
        mine = signed_in(frame, "ann@example.com")

        frame.get_by_role("tab", name="New request").click()
        new = frame.get_by_role("tabpanel", name="New request")
        new.get_by_label("What is your request about?").select_option(label="Bug report")
        new.get_by_role("textbox", name="Title").fill("Crash on save")
        new.get_by_role("textbox", name="Describe what you need").fill("It crashes when I save.")
        new.get_by_role("combobox", name="Browser").select_option("Chromium")
        new.get_by_role("button", name="Send request").click()

        # It opens under My requests, and staff see it of its type, with its field
        expect(mine.get_by_role("heading", name=re.compile("Crash on save"))).to_be_visible()
        heading = mine.get_by_role("heading", name=re.compile("Crash on save")).inner_text()
        number = int(heading.split()[0].lstrip("#"))
        item = admin.get(f"/api/v1/tickets/{number}").json()
        assert (item["item_type"], item["fields"]) == ("bug_report", {"browser": "Chromium"})


def test_with_the_messenger_switched_off_a_customer_still_signs_out(
    shop_page: Page, site: Site
) -> None:
    admin = site.admin
    customer_with_password(site, "ann@example.com")
    with host_site() as shop:
        frame = opened_widget(shop_page, site, shop)
        signed_in(frame, "ann@example.com")
        frame.get_by_role("tab", name="Chat").click()
        chat = frame.get_by_role("tabpanel", name="Chat")
        chat.get_by_label("Your message").fill("Hello")
        chat.get_by_role("button", name="Start chat").click()
        expect(frame.locator(".transcript").get_by_text("Hello")).to_be_visible()

        # The messenger goes off; the page is opened again: no Chat tab. (This browser keeps
        # no storage for a frame of another site, so the frame kept the session in memory:
        # the customer signs in again.) Signing out works and ends the session on the server
        admin.patch("/api/v1/admin/settings", json={"apps": {"messenger": False}})
        shop_page.reload()
        shop_page.get_by_role("button", name=re.compile("support$")).click()
        expect(frame.get_by_role("tab")).to_have_text(["New request", "My requests", "Help"])
        signed_in(frame, "ann@example.com")
        with shop_page.expect_request(
            lambda r: r.method == "DELETE" and r.url.endswith("/api/v1/portal/session")
        ):
            frame.get_by_role("button", name="Sign out").click()
        expect(
            frame.get_by_role("tabpanel", name="My requests").get_by_label("Password")
        ).to_be_visible()


def test_an_answer_that_comes_after_signing_out_shows_nothing_of_the_customer(
    shop_page: Page, site: Site
) -> None:
    customer_with_password(site, "ann@example.com")
    with host_site() as shop:
        frame = opened_widget(shop_page, site, shop)
        mine = signed_in(frame, "ann@example.com")
        session = site.admin.post(
            "/api/v1/portal/session", json={"email": "ann@example.com", "password": PASSWORD}
        ).json()
        made = site.admin.post(
            "/api/v1/portal/tickets",
            json={"title": "My printer is on fire", "description": "Smoke."},
            headers={"Authorization": f"Bearer {session['access_token']}"},
        )
        assert made.status_code == 201, made.text

        # The list of requests is on its way when the customer signs out (the server has
        # answered it); it comes after
        held: list[tuple[Route, APIResponse]] = []
        shop_page.route(
            re.compile(r"/api/v1/portal/tickets$"),
            lambda route: held.append((route, route.fetch())),
        )
        frame.get_by_role("tab", name="New request").click()
        with shop_page.expect_request(re.compile(r"/api/v1/portal/tickets$")):
            frame.get_by_role("tab", name="My requests").click()
        mine.get_by_role("button", name="Sign out").click()
        expect(mine.get_by_label("Password")).to_be_visible()
        # The route's handler fetches the answer as Playwright's events are dispatched: on a
        # busy machine it may not have yet (let them run until it has).
        deadline = time.monotonic() + 20
        while not held:
            assert time.monotonic() < deadline, "the list's answer was never held"
            shop_page.wait_for_timeout(20)
        with shop_page.expect_request_finished(lambda r: r.url.endswith("/api/v1/portal/tickets")):
            route, answered = held[0]
            assert answered.status == 200
            route.fulfill(response=answered)
        inner = shop_page.frame(url=re.compile(r"/widget/[^/]+$"))
        assert inner is not None
        inner.evaluate("() => new Promise((done) => setTimeout(done, 200))")  # Its answer read.

        # Nothing of hers shows: not the request, nor "no requests"
        expect(frame.locator(".request-list li")).to_have_count(0)
        expect(mine.get_by_text("My printer is on fire")).to_have_count(0)


def test_signing_out_leaves_no_article_only_customers_may_read(shop_page: Page, site: Site) -> None:
    for title, visibility in (("Reset a router", "public"), ("Our VIP line", "customers")):
        article = {"title": title, "body": "Text.", "status": "published", "visibility": visibility}
        assert site.admin.post("/api/v1/kb/articles", json=article).status_code == 201
    customer_with_password(site, "ann@example.com")
    with host_site() as shop:
        frame = opened_widget(shop_page, site, shop)
        mine = signed_in(frame, "ann@example.com")
        frame.get_by_role("tab", name="Help").click()
        articles = frame.locator("[data-articles]")
        expect(articles.get_by_role("button", name="Our VIP line")).to_be_visible()
        frame.get_by_role("tab", name="My requests").click()
        mine.get_by_role("button", name="Sign out").click()
        # Not even in the hidden Help tab: it holds what anyone may read
        expect(articles.locator("button", has_text="Reset a router")).to_have_count(1)
        expect(articles.locator("button", has_text="Our VIP line")).to_have_count(0)
