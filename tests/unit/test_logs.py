"""Log lines carry what their piece of work noted, in whichever thread (run in its context)
logs them; a request's lines, a 500's included, carry its correlation id and route template,
never its path."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import sys
import threading

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from commands.log_context import log_context, note
from ledgerdesk import bootstrap
from ledgerdesk.logs import JsonLines, Text


@pytest.fixture
def record() -> logging.LogRecord:
    return logging.LogRecord(
        "ledgerdesk.test", logging.WARNING, __file__, 1, "hello %s", ("you",), None
    )


def test_a_json_line_has_the_fields_of_its_work_and_what_the_call_added(
    record: logging.LogRecord,
) -> None:
    record.route = "/api/v1/me"
    with log_context(correlation_id="c-1"):
        note(actor="user:42")
        seen: list[str] = []
        context = contextvars.copy_context()  # as the server's thread pool does for a handler
        worker = threading.Thread(
            target=lambda: context.run(lambda: seen.append(JsonLines("api").format(record)))
        )
        worker.start()
        worker.join()
    line = json.loads(seen[0])
    assert line["message"] == "hello you"
    assert (line["level"], line["role"], line["logger"]) == ("warning", "api", "ledgerdesk.test")
    assert (line["correlation_id"], line["actor"], line["route"]) == (
        "c-1",
        "user:42",
        "/api/v1/me",
    )
    assert line["time"].endswith("+00:00")
    assert "correlation_id" not in json.loads(JsonLines("api").format(record))  # outside: none


def test_text_lines_say_the_same_in_words(record: logging.LogRecord) -> None:
    with log_context(correlation_id="c-2", actor_name="mail.send"):
        text = Text("worker").format(record)
    assert "WARNING worker ledgerdesk.test: hello you" in text
    assert text.endswith(" correlation_id=c-2 actor_name=mail.send")


def test_an_exception_is_one_line_with_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonLines("worker").format(failed)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_a_500_is_logged_with_its_request_and_never_its_path(
    live: bootstrap.Container,
) -> None:
    app = create_app(live.services())

    def boom(token: str) -> None:
        raise RuntimeError("broken")

    app.add_api_route("/api/v1/boom/{token}", boom)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonLines("api"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        with TestClient(app) as http:
            answer = http.get("/api/v1/boom/SECRET-TOKEN-1", headers={"X-Correlation-ID": "c-500"})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert answer.status_code == 500
    assert answer.headers["x-correlation-id"] == "c-500"
    # (the test's own HTTP client, httpx, logs the URL it asked for: not the server's line)
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    logged = [line for line in logged if not line["logger"].startswith("httpx")]
    assert "SECRET-TOKEN-1" not in json.dumps(logged)
    (error,) = [line for line in logged if line["logger"] == "ledgerdesk.api"]
    assert error["correlation_id"] == "c-500"
    assert "RuntimeError: broken" in error["exception"]
    assert error["message"] == "unhandled error on GET /api/v1/boom/{token}"
    (access,) = [line for line in logged if line["logger"] == "ledgerdesk.access"]
    assert (access["status"], access["route"], access["correlation_id"]) == (
        500,
        "/api/v1/boom/{token}",
        "c-500",
    )
