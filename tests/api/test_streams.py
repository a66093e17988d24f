"""The real-time streams over a real HTTP server: staff see the waiting queue and their chats
live, a customer sees their side of one chat (staff by name, never by id), typing comes and
goes unkept, and a dropped stream resumed with `Last-Event-ID` misses nothing and repeats
nothing — from memory or, when it fell further behind, from the view."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from projections import presence
from tests.api.test_portal_api import as_customer, created, session
from tests.factories import user_token
from tests.sse import Stream


def staff(client: TestClient) -> dict[str, str]:
    """The admin's credentials (the client's)."""
    return {"Authorization": client.headers["Authorization"]}


def test_staff_and_customer_see_a_chat_live(
    client: TestClient, live: bootstrap.Container, base: str
) -> None:
    agent = Stream(f"{base}/api/v1/me/stream", staff(client))
    assert agent.status == 200
    ready = agent.next()
    assert ready.name == "stream.ready"
    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "Help"}, headers=as_customer(ann))
    )
    waiting = agent.until("chat.waiting")[1]
    assert waiting.data["chat"]["id"] == chat["id"]
    first = agent.until("chat.message")[1]
    assert first.data["message"]["body"] == "Help"
    assert first.data["message"]["author"] == {"kind": "customer", "name": "ann@example.com"}

    customer = Stream(f"{base}/api/v1/portal/chats/{chat['id']}/stream", as_customer(ann))
    transcript = customer.until("chat.message")[1]
    assert transcript.data["message"]["body"] == "Help"  # from the chat's beginning

    client.post(f"/api/v1/chats/{chat['id']}/messages", json={"body": "On it"})
    joined = customer.until("chat.agent_joined")[1]
    assert joined.data == {"chat_id": chat["id"], "agent": {"name": "admin"}}
    reply = customer.until("chat.message")[1].data["message"]
    assert reply["body"] == "On it"
    assert reply["author"] == {"kind": "staff", "name": "admin"}  # a name, never an id
    mine = agent.until("chat.message")[1].data["message"]
    assert mine["author"]["kind"] == "staff"
    assert mine["author"]["user_id"]

    # Typing: to the other side at once, with no id (never kept), and never twice.
    typed = client.post(f"/api/v1/portal/chats/{chat['id']}/typing", headers=as_customer(ann))
    assert typed.status_code == 204, typed.text
    typing = agent.until("typing")[1]
    assert (typing.id, typing.data["who"]) == (None, "customer")
    client.post(f"/api/v1/chats/{chat['id']}/typing")
    seen = customer.until("typing")[1]
    assert seen.id is None
    assert seen.data == {"chat_id": chat["id"], "who": "staff"}
    client.post(f"/api/v1/chats/{chat['id']}/close")
    assert customer.until("chat.closed")[1].data == {"chat_id": chat["id"]}
    agent.cut()
    customer.cut()


@pytest.mark.parametrize("memory", [10_000, 2], ids=["from-memory", "from-the-view"])
def test_a_dropped_stream_resumes_after_its_last_event_id(
    client: TestClient, live: bootstrap.Container, base: str, memory: int
) -> None:
    live.streams.buffer_rows = memory
    watching = Stream(f"{base}/api/v1/me/stream", staff(client))  # the hub reads from now on
    watching.next()
    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "one"}, headers=as_customer(ann))
    )
    url = f"{base}/api/v1/portal/chats/{chat['id']}/stream"
    stream = Stream(url, as_customer(ann))
    last = stream.until("chat.message")[1]
    stream.cut()
    for body in ("two", "three", "four", "five"):
        client.post(f"/api/v1/chats/{chat['id']}/messages", json={"body": body})
    # Other chats' rows push the dropped stream's out of a small memory.
    for n in range(3):
        client.post("/api/v1/portal/chats", json={"body": f"other {n}"}, headers=as_customer(ann))

    again = Stream(url, {**as_customer(ann), "Last-Event-ID": str(last.id)})
    bodies = []
    ids = []
    while len(bodies) < 4:
        event = again.next()
        ids.append(event.id)
        if event.name == "chat.message":
            bodies.append(event.data["message"]["body"])
    assert bodies == ["two", "three", "four", "five"]
    assert len(set(ids)) == len(ids)
    assert last.id not in ids
    assert [e.name for e in again.quiet(1.0)] == []  # nothing twice, nobody else's
    again.cut()
    watching.cut()


def test_streams_refuse_what_their_reader_may_not_see(
    client: TestClient, live: bootstrap.Container, base: str
) -> None:
    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "Help"}, headers=as_customer(ann))
    )
    url = f"{base}/api/v1/portal/chats/{chat['id']}/stream"
    eve = session(client, "eve@example.com")
    assert Stream(url, as_customer(eve)).status == 404
    assert Stream(url, {}).status == 401
    assert Stream(f"{base}/api/v1/me/stream", {}).status == 401
    bad = Stream(url, {**as_customer(ann), "Last-Event-ID": "yesterday"})
    assert bad.status == 422
    assert b"Last-Event-ID" in bad.body
    # Nothing of another's chat reaches a customer's stream.
    mine = Stream(url, as_customer(ann))
    mine.until("chat.message")
    other = created(
        client.post("/api/v1/portal/chats", json={"body": "Eve's"}, headers=as_customer(eve))
    )
    client.post(f"/api/v1/chats/{other['id']}/messages", json={"body": "for Eve"})
    assert mine.quiet(1.5) == []
    assert mine.comments > 0  # heartbeats keep it open
    mine.cut()


def test_a_staff_stream_puts_its_reader_on_duty_for_chats(
    client: TestClient, live: bootstrap.Container, base: str
) -> None:
    admin_id = client.get("/api/v1/me").json()["id"]
    presence.gone(live.views, "tests", admin_id)  # the fixture's all-day duty
    assert not live.streams.agents_on_duty()
    stream = Stream(f"{base}/api/v1/me/stream", staff(client))
    stream.next()
    assert live.streams.agents_on_duty()
    stream.cut()
    deadline = time.monotonic() + 10
    while live.streams.agents_on_duty():  # the server sees the drop at its next heartbeat
        assert time.monotonic() < deadline, "still on duty after the stream closed"
        time.sleep(0.05)


def ended(stream: Stream, seconds: float = 10) -> bool:
    """Whether the server ends the stream within `seconds` (events before the end skipped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if stream.events.get(timeout=0.2) is None:
                return True
        except Exception:
            continue
    return False


def test_a_stream_ends_when_its_reader_may_no_longer_see_it_however_busy(
    client: TestClient, live: bootstrap.Container, base: str
) -> None:
    # A staff stream of an empty live view resumes from its stream.ready id.
    bob = {"Authorization": f"Bearer {user_token(live, 'bob@example.com')}"}
    first = Stream(f"{base}/api/v1/me/stream", bob)
    ready = first.next()
    first.cut()
    again = Stream(f"{base}/api/v1/me/stream", {**bob, "Last-Event-ID": str(ready.id)})
    assert again.status == 200, again.body
    again.cut()

    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "Hi"}, headers=as_customer(ann))
    )
    staff_stream = Stream(f"{base}/api/v1/me/stream", bob)
    customer_stream = Stream(f"{base}/api/v1/portal/chats/{chat['id']}/stream", as_customer(ann))
    staff_stream.next()
    customer_stream.next()
    assert client.delete("/api/v1/auth/token", headers=bob).status_code == 204
    assert client.delete("/api/v1/portal/session", headers=as_customer(ann)).status_code == 204
    # Busy streams (typing on both sides, more often than the heartbeat) still end.
    deadline = time.monotonic() + 10
    while staff_stream.thread.is_alive() or customer_stream.thread.is_alive():
        assert time.monotonic() < deadline, "a revoked reader's stream goes on"
        client.post(f"/api/v1/chats/{chat['id']}/typing")
        time.sleep(0.1)

    # Staff who lose customer conversations lose the queue: the stream ends, to come back
    # without it.
    carol = {"Authorization": f"Bearer {user_token(live, 'carol@example.com')}"}
    carol_id = client.get("/api/v1/me", headers=carol).json()["id"]
    watching = Stream(f"{base}/api/v1/me/stream", carol)
    watching.next()
    client.patch(f"/api/v1/users/{carol_id}", json={"flags": ["no_chats"]})
    assert ended(watching)
    back = Stream(f"{base}/api/v1/me/stream", carol)
    back.next()
    client.post(
        "/api/v1/portal/chats",
        json={"body": "Anyone?"},
        headers=as_customer(session(client, "dan@example.com")),
    )
    assert [e.name for e in back.quiet(1.5)] == []
    back.cut()
