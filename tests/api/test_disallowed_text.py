"""Text no store can keep (NUL and the other C0 controls but TAB, LF and CR, lone surrogates,
U+FFFE, U+FFFF) is refused at the edge with a 422 naming where it was, and nothing is
written: one NUL once stopped every view on PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.text_input import ERROR_TYPE
from ledgerdesk import bootstrap
from tests.api.test_portal_api import session


def refused(response: httpx.Response, *location: str | int) -> dict[str, Any]:
    """The 422 problem for a disallowed character at `location`."""
    assert response.status_code == 422, response.text
    problem: dict[str, Any] = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["type"] == "/problems/validation-error"
    assert {"location": list(location), "type": ERROR_TYPE} in [
        {"location": e["location"], "type": e["type"]} for e in problem["errors"]
    ], problem
    return problem


BOUNDARY = "ledgerdesk-boundary"


def multipart(disposition: bytes, content: bytes) -> bytes:
    """A multipart body of one part, written by hand so that any byte reaches the server."""
    return b"\r\n".join(
        [
            b"--" + BOUNDARY.encode(),
            b"Content-Disposition: form-data; " + disposition,
            b"Content-Type: text/plain",
            b"",
            content,
            b"--" + BOUNDARY.encode() + b"--",
            b"",
        ]
    )


def test_a_customer_cannot_open_a_ticket_with_nul_in_its_title(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a customer with a portal session
    token = session(client, "ada@acme.example")
    head = live.app.head()
    # When they open a ticket titled "help\0me"
    response = client.post(
        "/api/v1/portal/tickets",
        json={"title": "help\u0000me"},
        headers={"Authorization": f"Bearer {token}"},
    )
    # Then it is refused, naming the title, and nothing is appended to the log
    problem = refused(response, "body", "title")
    assert "U+0000 at index 4" in problem["detail"]
    assert live.app.head() == head


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("/api/v1/tickets", {"title": "Printer\u0000jammed"}, ("body", "title")),
        (
            "/api/v1/tickets",
            {"title": "Printer", "requester_email": "ada\u0000@example.com"},
            ("body", "requester_email"),
        ),
        ("/api/v1/tickets/{n}", {"description": "bell \u0007"}, ("body", "description")),
        (
            "/api/v1/tickets/{n}/messages",
            {"body": "we are\u001bon it", "visibility": "customer"},
            ("body", "body"),
        ),
        (
            "/api/v1/customers",
            {"name": "Acme", "domains": ["a.example", "b\ufffe"]},
            ("body", "domains", 1),
        ),
        (
            "/api/v1/tasks",
            {"title": "Weekly", "recurrence": {"frequency": "weekly\uffff"}},
            ("body", "recurrence", "frequency"),
        ),
        (
            "/api/v1/timesheets",
            {"item": 1, "date": "2026-12-01", "notes": "x\u0000"},
            ("body", "notes"),
        ),
    ],
)
def test_a_staff_write_with_a_disallowed_character_is_refused_naming_the_field(
    client: TestClient,
    live: bootstrap.Container,
    path: str,
    body: dict[str, Any],
    location: tuple[str | int, ...],
) -> None:
    # Given a ticket to write to
    number = client.post("/api/v1/tickets", json={"title": "Printer"}).json()["number"]
    head = live.app.head()
    # When a write's body holds a disallowed character (in a list, a nested object...)
    method = "PATCH" if path.endswith("{n}") else "POST"
    response = client.request(method, path.replace("{n}", str(number)), json=body)
    # Then it is refused, naming where, and nothing is written
    refused(response, *location)
    assert live.app.head() == head


def test_an_attachment_whose_file_name_holds_nul_is_refused_and_nothing_is_stored(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a ticket
    number = client.post("/api/v1/tickets", json={"title": "Logs"}).json()["number"]
    head = live.app.head()
    blobs = live.settings.blob_dir
    # When a file named "log\0.txt" is attached (raw: httpx would percent-encode the name)
    response = client.post(
        f"/api/v1/tickets/{number}/attachments",
        content=multipart(b'name="file"; filename="log\x00.txt"', b"hello"),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    # Then the file name is named as the problem, and neither event nor blob is written
    refused(response, "body", "file", "filename")
    assert live.app.head() == head
    assert not blobs.exists() or not any(blobs.rglob("*"))


def test_a_multipart_field_with_a_control_character_is_refused(client: TestClient) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Logs"}).json()["number"]
    response = client.post(
        f"/api/v1/tickets/{number}/attachments",
        files={"file": ("log.txt", b"hello", "text/plain")},
        data={"visibility": "customer\u0001"},
    )
    refused(response, "body", "visibility")


def test_a_lone_surrogate_in_a_json_body_is_refused(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given a body whose JSON escapes a lone surrogate (valid JSON, invalid text)
    head = live.app.head()
    raw = b'{"title": "broken \\ud800 title"}'
    # When it opens a ticket
    response = client.post(
        "/api/v1/tickets", content=raw, headers={"Content-Type": "application/json"}
    )
    # Then it is refused naming the title, instead of failing when the event is stored
    problem = refused(response, "body", "title")
    assert "U+D800" in problem["detail"]
    assert live.app.head() == head


def test_a_surrogate_pair_tab_newline_and_carriage_return_are_text(client: TestClient) -> None:
    # A JSON surrogate *pair* is one character (an emoji); TAB, LF and CR are ordinary text.
    raw = b'{"title": "Party \\ud83c\\udf89", "description": "a\\tb\\r\\nc"}'
    response = client.post(
        "/api/v1/tickets", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Party \U0001f389"
    assert response.json()["description"] == "a\tb\r\nc"


LIST_ROUTES_WITH_TEXT = [
    ("/api/v1/users", "q"),
    ("/api/v1/teams", "q"),
    ("/api/v1/contacts", "q"),
    ("/api/v1/customers", "q"),
    ("/api/v1/views/flat", "q"),
    ("/api/v1/views/flat", "status"),
    ("/api/v1/views/flat", "assignee"),
]


@pytest.mark.parametrize(("path", "name"), LIST_ROUTES_WITH_TEXT)
def test_a_list_searched_for_nul_answers_422_not_500(
    client: TestClient, path: str, name: str
) -> None:
    response = client.get(f"{path}?{name}=%00")
    refused(response, "query", name)


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """Every documented operation (method, path, spec): every route of the app."""
    spec = client.get("/openapi.json").json()
    found = [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]
    assert len(found) > 100
    return found


def _url(path: str, bad: str | None = None) -> str:
    """`path` with every parameter filled: `bad` with NUL, the others with a fitting value."""
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1 : end]
        value = "%00" if name == bad else ("1" if "number" in name else str(uuid.uuid4()))
        path = path[:start] + value + path[end + 1 :]
    return path


def test_every_query_and_path_parameter_of_every_route_refuses_nul(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Given every operation the API documents, with every parameter it declares (and one it
    # does not)
    head = live.app.head()
    checks, unexpected = 0, []
    for method, path, operation in _operations(client):
        parameters = operation.get("parameters", [])
        queries = {p["name"] for p in parameters if p["in"] == "query"} | {"probe"}
        for name in sorted(queries):
            # When the parameter holds NUL
            got = client.request(method, f"{_url(path)}?{name}=%00")
            checks += 1
            # Then the answer is 422 naming it
            if got.status_code != 422 or got.json()["errors"][0]["location"] != ["query", name]:
                unexpected.append(f"{method} {path} ?{name}: {got.status_code}")
        for parameter in (p for p in parameters if p["in"] == "path"):
            name = parameter["name"]
            got = client.request(method, _url(path, bad=name))
            checks += 1
            if got.status_code == 404 and parameter["schema"].get("format") == "uuid":
                continue  # A UUID path segment: a path with NUL there names no route at all.
            if got.status_code != 422 or got.json()["errors"][0]["location"] != ["path", name]:
                unexpected.append(f"{method} {path} {{{name}}}: {got.status_code}")
    print(f"parameter sweep: {checks} checks")
    assert not unexpected, "\n".join(unexpected)
    # And nothing was written
    assert live.app.head() == head


def test_every_request_body_of_every_route_is_checked(
    client: TestClient, live: bootstrap.Container
) -> None:
    # Any body of any route, present or future: a member holding a control character, at
    # any depth, is named by the text check (before the model would call it unknown).
    head = live.app.head()
    checks, unexpected = 0, []
    for method, path, operation in _operations(client):
        content = operation.get("requestBody", {}).get("content", {})
        if "multipart/form-data" in content:
            got = client.request(
                method,
                _url(path),
                content=multipart(b'name="file"; filename="a\x01"', b"x"),
                headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            )
            where: list[str | int] = ["body", "file", "filename"]
        elif "application/json" in content:
            got = client.request(method, _url(path), json={"probe": {"deep": ["\u0000"]}})
            where = ["body", "probe", "deep", 0]
        elif "message/rfc822" in content:
            continue  # Received mail is not refused: its control characters are replaced.
        else:
            assert not content, f"{method} {path}: a body of {list(content)}"
            continue
        checks += 1
        if got.status_code != 422 or where not in [e["location"] for e in got.json()["errors"]]:
            unexpected.append(f"{method} {path}: {got.status_code} {got.text[:200]}")
    print(f"body sweep: {checks} checks")
    assert checks > 40
    assert not unexpected, "\n".join(unexpected)
    assert live.app.head() == head


def test_a_body_that_is_not_declared_json_is_left_to_the_route(client: TestClient) -> None:
    # Not parsed as JSON by FastAPI, so not by the check either: the model refuses it (422),
    # nothing fails (500).
    response = client.post(
        "/api/v1/tickets", content=b"title=\x00", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 422, response.text
    assert ERROR_TYPE not in response.text
