"""The messenger's API: a portal customer and (where admins allow it) an anonymous one open
and go on with a chat; staff list the queue, claim, answer, transfer, close, and turn a chat
into a ticket the customer then sees, or link it; outsiders get 404, a closed chat 409, bad
input a problem naming it, and nothing is written for a refused request."""

from __future__ import annotations

from fastapi.testclient import TestClient

from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from tests.api.test_portal_api import as_customer, created, fresh, session
from tests.factories import user_token

NOBODY = {"Authorization": ""}  # (the client is an admin's: no credentials at all)


def test_a_customer_chats_with_an_agent_who_turns_it_into_a_ticket(
    client: TestClient, live: bootstrap.Container
) -> None:
    ann = session(client, "ann@example.com")
    opened = client.post(
        "/api/v1/portal/chats", json={"body": "My printer is on fire"}, headers=as_customer(ann)
    )
    chat = created(opened)
    assert opened.headers["Location"] == f"/api/v1/portal/chats/{chat['id']}"
    assert (chat["state"], chat["token"], chat["anonymous"]) == ("waiting", None, False)
    assert chat["messages"][0]["author"] == {"kind": "customer", "name": "ann@example.com"}

    queue = client.get("/api/v1/chats", params={"state": "waiting"}, headers=fresh(live))
    assert [c["id"] for c in queue.json()["items"]] == [chat["id"]]
    claimed = client.post(f"/api/v1/chats/{chat['id']}/claim")
    assert claimed.json()["state"] == "open", claimed.text
    answered = client.post(f"/api/v1/chats/{chat['id']}/messages", json={"body": "Unplug it"})
    assert answered.status_code == 201, answered.text
    assert answered.json()["messages"][-1]["author"]["kind"] == "staff"
    seen = client.get(f"/api/v1/portal/chats/{chat['id']}", headers=as_customer(ann))
    assert [m["body"] for m in seen.json()["messages"]] == ["My printer is on fire", "Unplug it"]
    mine = client.get("/api/v1/chats", params={"state": "mine"}, headers=fresh(live))
    assert [c["id"] for c in mine.json()["items"]] == [chat["id"]]

    converted = client.post(f"/api/v1/chats/{chat['id']}/conversion", json={"kind": "ticket"})
    item = created(converted)
    assert converted.headers["Location"] == f"/api/v1/tickets/{item['number']}"
    assert item["title"] == "My printer is on fire"
    requests = client.get("/api/v1/portal/tickets", headers=fresh(live, ann))
    assert [r["number"] for r in requests.json()["items"]] == [item["number"]]

    closed = client.post(f"/api/v1/chats/{chat['id']}/close")
    assert closed.json()["state"] == "closed"
    head = live.app.head()
    late = client.post(
        f"/api/v1/portal/chats/{chat['id']}/messages", json={"body": "Thanks"},
        headers=as_customer(ann),
    )  # fmt: skip
    assert late.status_code == 409, late.text
    assert late.headers["content-type"] == "application/problem+json"
    assert live.app.head() == head


def test_an_anonymous_customer_chats_where_admins_allow_it(
    client: TestClient, live: bootstrap.Container
) -> None:
    visitor = {"body": "Hello?", "name": "Bob", "email": "bob@example.com"}
    head = live.app.head()
    refused = client.post("/api/v1/portal/chats", json=visitor, headers=NOBODY)
    assert refused.status_code == 403, refused.text
    assert live.app.head() == head
    switched = client.patch("/api/v1/admin/settings", json={"features": {"anonymous_chats": True}})
    assert switched.json()["features"]["anonymous_chats"] is True
    bad = client.post("/api/v1/portal/chats", json={**visitor, "email": "nope"}, headers=NOBODY)
    assert bad.status_code == 422
    assert "email" in bad.text
    chat = created(client.post("/api/v1/portal/chats", json=visitor, headers=NOBODY))
    token = chat["token"]
    assert token.startswith("ldk_")
    assert chat["anonymous"] is True
    more = client.post(
        f"/api/v1/portal/chats/{chat['id']}/messages", json={"body": "Anyone?"},
        headers=as_customer(token),
    )  # fmt: skip
    assert more.status_code == 201, more.text
    stranger = session(client, "eve@example.com")
    for headers in (as_customer(stranger), as_customer("ldk_forged")):
        peek = client.get(f"/api/v1/portal/chats/{chat['id']}", headers=headers)
        assert peek.status_code in (401, 404), peek.text
    assert client.get(f"/api/v1/portal/chats/{chat['id']}", headers=NOBODY).status_code == 401


def test_staff_without_the_tickets_app_have_no_chats(
    client: TestClient, live: bootstrap.Container
) -> None:
    token = user_token(live, "planner@example.com")
    user = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    changed = client.patch(f"/api/v1/users/{user['id']}", json={"apps": "tasks"})
    assert changed.status_code == 200, changed.text
    listed = client.get("/api/v1/chats", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 403, listed.text


def test_an_anonymous_chat_becomes_a_ticket_staff_and_its_history_read(
    client: TestClient, live: bootstrap.Container
) -> None:
    client.patch("/api/v1/admin/settings", json={"features": {"anonymous_chats": True}})
    visitor = {"body": "Where is my order?", "name": "Bob", "email": "bob@example.com"}
    chat = created(client.post("/api/v1/portal/chats", json=visitor, headers=NOBODY))
    client.post(f"/api/v1/chats/{chat['id']}/messages", json={"body": "Let me look"})
    item = created(client.post(f"/api/v1/chats/{chat['id']}/conversion", json={"kind": "ticket"}))
    read = client.get(f"/api/v1/tickets/{item['number']}", headers=fresh(live))
    assert read.status_code == 200, read.text
    history = client.get(f"/api/v1/tickets/{item['number']}/history", headers=fresh(live))
    assert history.status_code == 200, history.text
    listed = client.get("/api/v1/views/flat", headers=fresh(live))
    assert item["number"] in [i["number"] for i in listed.json()["items"]]


def test_admins_take_customer_conversations_from_a_user(
    client: TestClient, live: bootstrap.Container
) -> None:
    token = user_token(live, "bob@example.com")
    bob = {"Authorization": f"Bearer {token}"}
    bob_id = client.get("/api/v1/me", headers=bob).json()["id"]
    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "Hi"}, headers=as_customer(ann))
    )
    assert client.get("/api/v1/chats", headers=bob).status_code == 200
    changed = client.patch(f"/api/v1/users/{bob_id}", json={"flags": ["no_chats"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["flags"] == ["no_chats"]
    head = live.app.head()
    for refused in (
        client.get("/api/v1/chats", headers=bob),
        client.get(f"/api/v1/chats/{chat['id']}", headers=bob),
        client.post(f"/api/v1/chats/{chat['id']}/claim", headers=bob),
        client.post(f"/api/v1/chats/{chat['id']}/messages", json={"body": "x"}, headers=bob),
    ):
        assert refused.status_code == 403, refused.text
        assert "conversations" in refused.json()["detail"]
    assert live.app.head() == head
    # Nor is a waiting chat announced to them any more.
    client.post("/api/v1/portal/chats", json={"body": "Again"}, headers=as_customer(ann))
    told = client.get(
        "/api/v1/me/notifications", headers={**bob, "X-Min-Position": str(live.app.head())}
    ).json()
    assert told["items"] == []


def test_both_sides_send_files_which_the_ticket_keeps(
    client: TestClient, live: bootstrap.Container
) -> None:
    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "See"}, headers=as_customer(ann))
    )
    sent = client.post(
        f"/api/v1/portal/chats/{chat['id']}/attachments",
        files={"file": ("error.png", b"\x89PNG fake", "image/png")},
        headers=as_customer(ann),
    )
    doc = created(sent)
    file = doc["messages"][-1]["attachments"][0]
    assert file == {
        "id": sent.headers["X-Attachment-ID"], "name": "error.png", "size": 9,
        "media_type": "image/png",
    }  # fmt: skip
    assert doc["messages"][-1]["body"] == ""
    answered = client.post(
        f"/api/v1/chats/{chat['id']}/attachments",
        files={"file": ("fix.txt", b"unplug it", "text/plain")},
        data={"body": "Try this"},
    )
    staff_file = created(answered)["messages"][-1]
    assert (staff_file["body"], staff_file["author"]["kind"]) == ("Try this", "staff")

    # Each side downloads the chat's files; an outsider does not
    theirs = client.get(
        f"/api/v1/portal/chats/{chat['id']}/attachments/{answered.headers['X-Attachment-ID']}",
        headers=as_customer(ann),
    )
    assert theirs.content == b"unplug it"
    assert theirs.headers["content-disposition"].startswith("attachment")
    mine = client.get(f"/api/v1/chats/{chat['id']}/attachments/{file['id']}")
    assert mine.content == b"\x89PNG fake"
    bob = session(client, "bob@example.com")
    outsider = client.get(
        f"/api/v1/portal/chats/{chat['id']}/attachments/{file['id']}", headers=as_customer(bob)
    )
    assert outsider.status_code == 404
    unknown = client.get(f"/api/v1/chats/{chat['id']}/attachments/{chat['id']}")
    assert unknown.status_code == 404

    # Converted, the chat's files are the ticket's, for the customer to see
    item = created(client.post(f"/api/v1/chats/{chat['id']}/conversion", json={"kind": "ticket"}))
    portal = client.get(f"/api/v1/portal/tickets/{item['number']}", headers=fresh(live, ann))
    assert sorted(a["name"] for a in portal.json()["attachments"]) == ["error.png", "fix.txt"]
    assert [m["body"] for m in portal.json()["messages"]] == ["See", "Try this"]
    # each with the message it came with, and no other (mail carries a message's files by
    # their shared correlation id)
    events = list(live.app.events.get(item_id(item["number"])))
    said = {e.body: e.correlation_id for e in events if hasattr(e, "body")}
    files = {e.name: e.correlation_id for e in events if type(e).__name__ == "AttachmentAdded"}
    assert files["fix.txt"] == said["Try this"]
    assert files["error.png"] not in (said["See"], said["Try this"])
    assert said["See"] != said["Try this"]

    # A closed chat takes no file, and keeps no byte of it
    client.post(f"/api/v1/chats/{chat['id']}/close")
    head, blobs = live.app.head(), sorted(live.settings.blob_dir.rglob("*"))
    late = client.post(
        f"/api/v1/portal/chats/{chat['id']}/attachments",
        files={"file": ("late.txt", b"never stored", "text/plain")},
        headers=as_customer(ann),
    )
    assert late.status_code == 409, late.text
    assert (live.app.head(), sorted(live.settings.blob_dir.rglob("*"))) == (head, blobs)


def test_a_file_without_a_file_or_an_empty_message_is_refused(
    client: TestClient, live: bootstrap.Container
) -> None:
    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "Hi"}, headers=as_customer(ann))
    )
    missing = client.post(
        f"/api/v1/portal/chats/{chat['id']}/attachments", data={"body": "x"},
        headers=as_customer(ann),
    )  # fmt: skip
    assert missing.status_code == 422
    assert "file" in missing.text
    empty = client.post(f"/api/v1/chats/{chat['id']}/messages", json={"body": " "})
    assert empty.status_code == 422
    blobs = sorted(live.settings.blob_dir.rglob("*"))
    bad_text = client.post(
        f"/api/v1/chats/{chat['id']}/attachments", data={"body": "a\x00b"},
        files={"file": ("x.txt", b"never kept", "text/plain")},
    )  # fmt: skip
    assert bad_text.status_code == 422, bad_text.text
    assert sorted(live.settings.blob_dir.rglob("*")) == blobs


def test_an_agent_leaves_and_the_chat_waits_again(
    client: TestClient, live: bootstrap.Container
) -> None:
    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "Hi"}, headers=as_customer(ann))
    )
    assert client.post(f"/api/v1/chats/{chat['id']}/claim").json()["state"] == "open"
    left = client.post(f"/api/v1/chats/{chat['id']}/leave")
    assert left.status_code == 200, left.text
    assert (left.json()["state"], left.json()["agents"]) == ("waiting", [])
    queue = client.get("/api/v1/chats", params={"state": "waiting"}, headers=fresh(live))
    assert [c["id"] for c in queue.json()["items"]] == [chat["id"]]
    head = live.app.head()
    again = client.post(f"/api/v1/chats/{chat['id']}/leave")  # Not one of its agents
    assert (again.status_code, live.app.head()) == (200, head)
    client.post(f"/api/v1/chats/{chat['id']}/close")
    assert client.post(f"/api/v1/chats/{chat['id']}/leave").status_code == 409


def test_the_portal_pages_cookie_chats_too_but_only_from_our_own_pages(
    client: TestClient, live: bootstrap.Container
) -> None:
    token = session(client, "ann@example.com")
    with TestClient(live.http_app()) as browser:
        # Beside a cookie the stdlib's parser would choke on (the pages read past it too)
        browser.cookies.set("pref", '{"a":1}')
        browser.cookies.set("ld_portal", token)
        ours = {"Origin": "http://testserver"}
        opened = browser.post(
            "/api/v1/portal/chats", json={"body": "From the portal"}, headers=ours
        )
        chat = created(opened)
        assert (chat["email"], chat["anonymous"]) == ("ann@example.com", False)
        posted = browser.post(
            f"/api/v1/portal/chats/{chat['id']}/messages", json={"body": "More"}, headers=ours
        )
        assert posted.status_code == 201, posted.text
        assert browser.get(f"/api/v1/portal/chats/{chat['id']}").status_code == 200
        head = live.app.head()
        forged = browser.post(
            f"/api/v1/portal/chats/{chat['id']}/messages",
            json={"body": "Sent by another site"},
            headers={"Origin": "https://evil.example.net"},
        )
        assert forged.status_code == 403, forged.text
        # Without an Origin, only a browser saying it is our own page may write with it
        bare = browser.post(f"/api/v1/portal/chats/{chat['id']}/messages", json={"body": "?"})
        assert bare.status_code == 403, bare.text
        assert live.app.head() == head
        same = browser.post(
            f"/api/v1/portal/chats/{chat['id']}/messages", json={"body": "Same page"},
            headers={"Sec-Fetch-Site": "same-origin"},
        )  # fmt: skip
        assert same.status_code == 201, same.text


def test_the_messenger_switched_off_answers_404_and_keeps_its_chats(
    client: TestClient, live: bootstrap.Container
) -> None:
    ann = session(client, "ann@example.com")
    chat = created(
        client.post("/api/v1/portal/chats", json={"body": "Hi"}, headers=as_customer(ann))
    )
    off = client.patch("/api/v1/admin/settings", json={"apps": {"messenger": False}})
    assert off.json()["apps"]["messenger"] is False
    for method, path, headers in (
        ("post", "/api/v1/portal/chats", as_customer(ann)),
        ("get", f"/api/v1/portal/chats/{chat['id']}", as_customer(ann)),
        ("get", f"/api/v1/portal/chats/{chat['id']}/stream", as_customer(ann)),
        ("get", "/api/v1/chats", {}),
        ("post", f"/api/v1/chats/{chat['id']}/claim", {}),
        ("post", f"/api/v1/chats/{chat['id']}/typing", {}),
    ):
        answer = client.request(method, path, headers=headers, json={"body": "x"})
        assert answer.status_code == 404, (path, answer.text)
        assert "messenger is disabled" in answer.json()["detail"]
    widget = created(
        client.post(
            "/api/v1/admin/widgets", json={"name": "S", "allowed_origins": ["https://a.example"]}
        )
    )
    face = client.get(f"/api/v1/widgets/{widget['id']}", headers=NOBODY).json()
    assert "chat" not in face["tabs"]

    # The chat waiting is no news while the messenger is off, and is again once it is on
    waiting = client.get("/api/v1/me/notifications", headers=fresh(live)).json()["items"]
    assert "chat_waiting" not in [n["kind"] for n in waiting]
    client.patch("/api/v1/admin/settings", json={"apps": {"messenger": True}})
    waiting = client.get("/api/v1/me/notifications", headers=fresh(live)).json()["items"]
    assert "chat_waiting" in [n["kind"] for n in waiting]
    back = client.get(f"/api/v1/chats/{chat['id']}")
    assert [m["body"] for m in back.json()["messages"]] == ["Hi"]


def test_a_chat_takes_so_many_files_and_visitors_files_are_throttled(
    client: TestClient, live: bootstrap.Container
) -> None:
    client.patch("/api/v1/admin/settings", json={"features": {"anonymous_chats": True}})
    visitor = {"body": "Hello?", "name": "Bob", "email": "bob@example.com"}
    chat = created(client.post("/api/v1/portal/chats", json=visitor, headers=NOBODY))
    token = as_customer(chat["token"])
    statuses = []
    for n in range(25):  # Past the address's web form limit (20, the opening counted)
        sent = client.post(
            f"/api/v1/portal/chats/{chat['id']}/attachments",
            files={"file": (f"{n}.txt", f"file {n}".encode(), "text/plain")}, headers=token,
        )  # fmt: skip
        statuses.append(sent.status_code)
    assert statuses[:19] == [201] * 19, statuses
    assert set(statuses[19:]) == {429}, statuses
    # Staff are not throttled, but a chat is no file store: 50 files in all
    for n in range(50 - 19):
        sent = client.post(
            f"/api/v1/chats/{chat['id']}/attachments",
            files={"file": (f"s{n}.txt", f"staff {n}".encode(), "text/plain")},
        )  # fmt: skip
        assert sent.status_code == 201, (n, sent.text)
    head, blobs = live.app.head(), sorted(live.settings.blob_dir.rglob("*"))
    full = client.post(
        f"/api/v1/chats/{chat['id']}/attachments",
        files={"file": ("one-more.txt", b"never stored", "text/plain")},
    )
    assert full.status_code == 422, full.text
    assert "at most 50 files" in full.json()["detail"]
    assert (live.app.head(), sorted(live.settings.blob_dir.rglob("*"))) == (head, blobs)
