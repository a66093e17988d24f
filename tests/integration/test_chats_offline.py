"""A chat opened while nobody is on duty (no staff stream of anyone who takes chats is open,
in any API process) becomes a ticket at once: the customer's message its first, a notice
its second — mailed to the customer like any answer — and the chat ends."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.test_portal_api import as_customer, created, session
from tests.factories import admin_token
from tests.smtp_sink import Sink


def test_a_chat_with_nobody_on_duty_becomes_a_ticket_mailed_to_the_customer(
    mailing: bootstrap.Container, sink: Sink
) -> None:
    with TestClient(mailing.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {admin_token(mailing)}"
        ann = session(http, "ann@example.com")
        opened = http.post(
            "/api/v1/portal/chats", json={"body": "Anyone there?"}, headers=as_customer(ann)
        )
        chat = created(opened)
        assert chat["state"] == "closed"
        assert chat["item"]["kind"] == "ticket"
        assert chat["item"]["how"] == "converted"
        number = chat["item"]["number"]
        head = {"X-Min-Position": opened.headers["X-Log-Position"]}
        ticket = http.get(f"/api/v1/tickets/{number}", headers=head).json()
        assert ticket["channel"] == "chat"
        assert ticket["messages"][0]["body"] == "Anyone there?"
        notice = ticket["messages"][1]
        assert (notice["visibility"], f"request #{number}" in notice["body"]) == ("customer", True)
        deadline = time.monotonic() + 20
        while not any(
            f"request #{number}" in r.raw.decode(errors="replace")
            for r in sink.to("ann@example.com")
        ):
            assert time.monotonic() < deadline, [r.message["Subject"] for r in sink.all()]
            time.sleep(0.1)
        mine = http.get("/api/v1/portal/tickets", headers={**as_customer(ann), **head})
        assert [t["number"] for t in mine.json()["items"]] == [number]
        # It never waited: nobody is told of a chat waiting.
        told = http.get("/api/v1/me/notifications", headers=head).json()["items"]
        assert [n["kind"] for n in told] == []
