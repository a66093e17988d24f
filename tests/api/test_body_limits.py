"""Request bodies are bounded by what is read, with or without Content-Length, before
authentication: JSON bodies by LEDGERDESK_MAX_JSON_BYTES, uploads by the attachment limit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledgerdesk import bootstrap
from tests.factories import open_ticket

BOUNDARY = "ledgerdesk-test-boundary"


def anonymous(live: bootstrap.Container, **limits: int) -> TestClient:
    """A client without a token, of an app with the given limits."""
    return TestClient(create_app(replace(live.services(), **limits)))


def sent(body: bytes, chunked: bool) -> bytes | Iterator[bytes]:
    """The body as one piece with its Content-Length, or in chunks without one."""
    return iter([body[:100], body[100:]]) if chunked else body


def multipart(size: int) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    )
    return head.encode() + b"x" * size + f"\r\n--{BOUNDARY}--\r\n".encode()


def assert_too_large(response: httpx.Response, limit: int, chunked: bool) -> None:
    assert ("content-length" in response.request.headers) is not chunked
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    problem = response.json()
    assert (problem["type"], problem["limit"]) == ("/problems/too-large", limit)
    assert str(limit) in problem["detail"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_over_limit_json_body_is_refused_before_authentication(
    live: bootstrap.Container, chunked: bool
) -> None:
    # Given no token, and a JSON body over the limit
    http = anonymous(live, max_json_bytes=1024)
    body = json.dumps({"title": "x" * 2000}).encode()
    head = live.app.head()
    # When it is posted
    refused = http.post(
        "/api/v1/tickets", content=sent(body, chunked), headers={"Content-Type": "application/json"}
    )
    # Then it is refused for its size (not 401, not FastAPI's 400), and nothing is written
    assert_too_large(refused, 1024, chunked)
    assert live.app.head() == head


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_over_limit_upload_is_refused_before_authentication(
    live: bootstrap.Container, chunked: bool
) -> None:
    # Given no token, and an upload over the attachment limit and the room for the form
    http = anonymous(live, max_attachment_bytes=16)
    number = open_ticket(live)
    body = multipart(100_000)
    head = live.app.head()
    for path in (f"/api/v1/tickets/{number}/attachments", "/api/v1/timesheets/import"):
        # When it is posted
        refused = http.post(
            path,
            content=sent(body, chunked),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
        # Then it is refused for its size, naming the attachment limit
        assert_too_large(refused, 16, chunked)
    assert live.app.head() == head


def test_an_upload_within_its_limit_is_not_held_to_the_json_limit(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a JSON limit far below the upload's size
    http = TestClient(create_app(replace(live.services(), max_json_bytes=1024)))
    http.headers.update(client.headers)
    number = open_ticket(live)
    # When a 100 kB file is attached, in chunks
    added = http.post(
        f"/api/v1/tickets/{number}/attachments",
        content=sent(multipart(100_000), chunked=True),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    # Then it is stored
    assert added.status_code == 201, added.text
    assert added.json()["attachments"][0]["size"] == 100_000


def test_the_largest_legitimate_json_body_fits_the_default_limit(client: TestClient) -> None:
    # Given the longest description allowed, every character escaped as a surrogate pair
    # (as a JSON encoder with ensure_ascii writes characters beyond the BMP)
    body = json.dumps({"title": "Emoji", "description": "\U0001f600" * 200_000}).encode()
    assert len(body) > 2_400_000
    # When it is posted
    created = client.post(
        "/api/v1/tickets", content=body, headers={"Content-Type": "application/json"}
    )
    # Then the ticket is opened
    assert created.status_code == 201, created.text[:300]
    assert len(created.json()["description"]) == 200_000
