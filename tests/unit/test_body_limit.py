"""The body limit as an ASGI middleware, driven message by message: it stops reading at the
limit, answers 413 once, and never writes into a response the app already started."""

from __future__ import annotations

import re
from typing import Any

import anyio
import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from api.body_limit import UPLOAD_OVERHEAD, Accepts, BodyLimitMiddleware, BodyLimits

CHUNK = {"type": "http.request", "body": b"x" * 8, "more_body": True}


class Client:
    """An endless chunked body, counting what the app took; and what the app answered."""

    def __init__(self) -> None:
        self.reads = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.reads += 1
        return dict(CHUNK)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def scope(content_type: str = "application/json") -> Scope:
    headers = [(b"content-type", content_type.encode())]
    return {"type": "http", "method": "POST", "path": "/api/v1/tickets", "headers": headers}


async def reads_all_then_answers(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that reads the body to its end (or a disconnect), then answers 400 to a
    disconnect as FastAPI's body parser does."""
    while (await receive())["type"] == "http.request":
        pass
    await send({"type": "http.response.start", "status": 400, "headers": []})
    await send({"type": "http.response.body", "body": b"error parsing the body"})


async def answers_then_reads(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that starts its answer before it reads the body."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    while (await receive())["type"] == "http.request":
        await send({"type": "http.response.body", "body": b".", "more_body": True})
    await send({"type": "http.response.body", "body": b"end"})


def run(app: Any, client: Client, limits: BodyLimits, content_type: str) -> None:
    middleware = BodyLimitMiddleware(app, limits)
    anyio.run(middleware, scope(content_type), client.receive, client.send)


def test_an_endless_body_is_cut_at_the_limit_and_answered_413_once() -> None:
    client = Client()
    # When an app reads an endless JSON body
    run(
        reads_all_then_answers,
        client,
        BodyLimits(json_bytes=20, upload_bytes=10**6, mail_bytes=10**6),
        "",
    )
    # Then reading stopped at the third chunk (24 bytes > 20), and only the 413 went out
    assert client.reads == 3
    assert [m["type"] for m in client.sent] == ["http.response.start", "http.response.body"]
    start, body = client.sent
    assert start["status"] == 413
    assert (b"connection", b"close") in start["headers"]
    problem = orjson.loads(body["body"])
    assert (problem["type"], problem["limit"]) == ("/problems/too-large", 20)


def test_an_upload_may_be_larger_than_a_json_body() -> None:
    client = Client()
    limits = BodyLimits(json_bytes=20, upload_bytes=100, mail_bytes=100, accepts=(TICKET_UPLOADS,))
    run(reads_all_then_answers, client, limits, "multipart/form-data; boundary=b")
    assert client.reads * 8 > 100 + UPLOAD_OVERHEAD
    assert client.reads == (100 + UPLOAD_OVERHEAD) // 8 + 1
    assert orjson.loads(client.sent[1]["body"])["limit"] == 100


def test_a_response_already_started_is_not_corrupted() -> None:
    client = Client()
    # When the app answered before the body passed the limit
    run(answers_then_reads, client, BodyLimits(json_bytes=20, upload_bytes=100, mail_bytes=100), "")
    # Then its answer goes out whole and alone: no 413 in the middle of it
    assert [m.get("status") for m in client.sent if m["type"] == "http.response.start"] == [200]
    assert client.sent[-1] == {"type": "http.response.body", "body": b"end"}
    # And the body was still read no further than the limit
    assert client.reads == 3


TICKET_UPLOADS = Accepts(
    frozenset({"POST"}), re.compile("^/api/v1/tickets$"), "multipart/form-data"
)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/octet-stream", "message/rfc822", "multipart/x"]
)
def test_declaring_another_type_buys_no_larger_body(content_type: str) -> None:
    # Given a route that takes multipart uploads only
    client = Client()
    limits = BodyLimits(
        json_bytes=20, upload_bytes=10**6, mail_bytes=10**6, accepts=(TICKET_UPLOADS,)
    )
    # When a client sends another type
    run(reads_all_then_answers, client, limits, content_type)
    # Then the JSON limit applies
    assert client.reads == 3
    assert orjson.loads(client.sent[1]["body"])["limit"] == 20
