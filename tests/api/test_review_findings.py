"""Inputs an attacker or a careless client sends, each answered with a problem, never a 500
and never an unbounded answer."""

from __future__ import annotations

import base64

import orjson
import pytest
from fastapi.testclient import TestClient

from api.routers.health import HeadSamples
from domain.project import INBOX_ID
from ledgerdesk import bootstrap
from projections.failures import record_failure
from tests.factories import admin_token


def cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode()


@pytest.mark.parametrize(
    ("path", "crafted"),
    [
        ("/api/v1/tickets/1/history", cursor(None)),
        ("/api/v1/tickets/1/history", cursor(True)),
        ("/api/v1/projects", cursor(1, 1)),
        ("/api/v1/folders", cursor(1, 1)),
        ("/api/v1/portfolios", cursor(1, 1)),
        ("/api/v1/views/calendar?month=2026-12", cursor("1", True)),
        ("/api/v1/views/flat?sort=number", cursor("number", "text", 1)),
        ("/api/v1/views/flat?sort=title", cursor("title", 5, 1)),
        ("/api/v1/views/tree", cursor(2, 1.5, "x")),
        ("/api/v1/views/tree", cursor(0, 1.5, "x")),
    ],
)
def test_a_crafted_cursor_is_422(client: TestClient, path: str, crafted: str) -> None:
    assert client.post("/api/v1/tickets", json={"title": "One"}).status_code == 201
    joiner = "&" if "?" in path else "?"
    answer = client.get(f"{path}{joiner}cursor={crafted}")
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1899-12", "9001-01"])
def test_a_calendar_month_outside_the_plans_range_is_422(client: TestClient, month: str) -> None:
    answer = client.get(f"/api/v1/views/calendar?month={month}")
    assert answer.status_code == 422, answer.text
    assert "month" in answer.text


def test_a_duration_past_the_last_plannable_day_is_refused_and_the_svg_stays_small(
    client: TestClient,
) -> None:
    # A task may not run past 9000-12-31
    refused = client.post(
        "/api/v1/tasks", json={"title": "Long", "start": "9000-12-29", "duration_days": 100000}
    )
    assert refused.status_code == 422, refused.text
    # And a plan over the whole range draws a bounded number of week lines
    for start, days in (("1900-01-01", 1), ("8990-01-02", 2000)):
        made = client.post(
            "/api/v1/tasks", json={"title": start, "start": start, "duration_days": days}
        )
        assert made.status_code == 201, made.text
    svg = client.get(f"/api/v1/views/gantt.svg?project={INBOX_ID}")
    assert svg.status_code == 200, svg.text
    assert svg.text.count("<line") < 400
    assert len(svg.content) < 200_000


def test_health_names_a_view_that_stays_behind_the_log() -> None:
    # Given the heads health saw over time
    now = [0.0]
    samples = HeadSamples(clock=lambda: now[0])
    # Then nothing is settled until a head is old enough for every view to have reached it
    assert samples.settled(5) is None
    now[0] = 5.0
    assert samples.settled(8) is None
    now[0] = 12.0
    assert samples.settled(9) == 5
    now[0] = 30.0
    assert samples.settled(9) == 9


def test_health_shows_a_failed_views_error_to_admins_only(container: bootstrap.Container) -> None:
    # Given a failed view (and no runner that could clear it meanwhile)
    container.runner.catch_up()
    with container.views.write() as tx:
        record_failure(tx, "customers", RuntimeError("secret detail"))
    with TestClient(container.http_app()) as client:
        anonymous = client.get("/api/v1/health").json()
        admin = client.get(
            "/api/v1/health", headers={"Authorization": f"Bearer {admin_token(container)}"}
        ).json()
    # Then everyone sees it is degraded, and only an admin sees the error
    assert anonymous["status"] == "degraded"
    assert "secret detail" not in str(anonymous)
    assert "secret detail" in admin["failed_views"][0]["error"]
