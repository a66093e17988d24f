"""Liveness and readiness, as a load balancer or a supervisor asks: `/health/live` answers
while the process does; `/health/ready` says 503, naming what is wrong, while the database or
the broker does not answer or a view lags the log too far."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledgerdesk import bootstrap
from projections.db import open_views
from tests import services
from tests.conftest import make_settings
from tests.factories import open_ticket
from workers.broker import broker_answers


def test_live_answers_without_a_token_and_checks_nothing(client: TestClient) -> None:
    client.headers.pop("Authorization")
    answer = client.get("/api/v1/health/live")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_a_fresh_install_is_ready(client: TestClient) -> None:
    client.headers.pop("Authorization")
    answer = client.get("/api/v1/health/ready")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "not configured", "views": "ok"},
        "problems": [],
        "failed_views": [],
        "lagging_views": [],
    }


def test_the_broker_is_asked_when_there_is_one(live: bootstrap.Container) -> None:
    redis_url = services.url(services.REDIS_VAR)
    answering = replace(live.services(), broker_check=partial(broker_answers, redis_url))
    with TestClient(create_app(answering)) as http:
        ok = http.get("/api/v1/health/ready")
    assert ok.status_code == 200, ok.text
    assert ok.json()["checks"]["broker"] == "ok"
    dead = replace(live.services(), broker_check=partial(broker_answers, "redis://127.0.0.1:1/0"))
    with TestClient(create_app(dead)) as http:
        down = http.get("/api/v1/health/ready")
    assert down.status_code == 503
    assert down.json()["checks"] == {"database": "ok", "broker": "failed", "views": "ok"}
    assert down.json()["problems"] == ["the broker does not answer (ConnectionError)"]


def test_views_behind_the_log_by_more_than_the_threshold_are_not_ready(
    container: bootstrap.Container,
) -> None:
    """No runner follows here: the views stay where they were as the log grows."""
    for n in range(3):
        open_ticket(container, title=f"Ticket {n}")
    strict = replace(container.services(), ready_max_view_lag=2)
    with TestClient(create_app(strict)) as http:
        answer = http.get("/api/v1/health/ready")
    assert answer.status_code == 503
    lagging = answer.json()["lagging_views"]
    assert {v["view"] for v in lagging} >= {"flat", "ticket_detail"}
    assert all(v["lag"] > 2 and v["head"] - v["position"] == v["lag"] for v in lagging)
    assert any("events behind the log (more than 2)" in p for p in answer.json()["problems"])
    lenient = replace(container.services(), ready_max_view_lag=1000)
    with TestClient(create_app(lenient)) as http:
        assert http.get("/api/v1/health/ready").status_code == 200


@pytest.mark.postgres
def test_a_database_that_does_not_answer_is_not_ready_within_seconds(
    tmp_path: Path, pg_schema: str
) -> None:
    settings = make_settings("postgres", tmp_path, pg_schema)
    bootstrap.migrate(settings)
    built = bootstrap.build(settings)
    gone = open_views("postgresql://postgres@127.0.0.1:1/nothing", pg_schema, 1)
    try:
        cut_off = replace(built.services(), views=gone)
        with TestClient(create_app(cut_off)) as http:
            answer = http.get("/api/v1/health/ready")
            live = http.get("/api/v1/health/live")
        assert answer.status_code == 503
        assert answer.json()["checks"] == {
            "database": "failed",
            "broker": "not configured",
            "views": "unknown",
        }
        (problem,) = answer.json()["problems"]
        assert problem.startswith("the database did not answer within")
        assert "127.0.0.1:1" not in answer.text  # where the database is, is not told
        assert live.status_code == 200
    finally:
        gone.close()
        built.close()
