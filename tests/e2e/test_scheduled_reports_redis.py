"""A scheduled report delivered once per period to a real SMTP sink by two workers on one
Redis queue — ticking every tenth of a second, and each also making the period's run at
the same moment by hand — and once still after both are restarted."""

from __future__ import annotations

import threading
from datetime import timedelta
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

import commands.views.schedules
from domain.views.report_schedule import ReportSchedule
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.conftest import wait_until
from tests.e2e.test_workers_redis import on_redis, redis_namespace  # noqa: F401 (fixtures)
from tests.factories import admin_token
from tests.integration.test_report_schedules import CLIENTS, OWNER, Clock, more_ticks, schedule
from tests.smtp_sink import Sink
from workers.reports import maker


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    made = Clock()
    monkeypatch.setattr(commands.views.schedules, "utc_now", made)
    return made


@pytest.fixture
def fast(on_redis: Settings, sink: Sink) -> Settings:  # noqa: F811
    configured = on_redis.model_copy(
        update={"smtp_url": sink.url, "forward_unread_after": 0, "tick_seconds": 0.1}
    )
    bootstrap.migrate(configured)
    return configured


def recorded(c: bootstrap.Container, schedule_id: str, event: type) -> list[str]:
    """The periods the schedule's log records `event` for."""
    return [e.period for e in c.app.events.get(UUID(schedule_id)) if isinstance(e, event)]


def test_two_workers_mail_a_scheduled_report_once_per_period(
    fast: Settings, sink: Sink, clock: Clock
) -> None:
    first, second = bootstrap.build(fast), bootstrap.build(fast)
    try:
        first.follow()
        first.work()
        second.work()
        with TestClient(first.http_app()) as http:
            http.headers["Authorization"] = f"Bearer {admin_token(first, OWNER)}"
            made = schedule(http)
        assert first.runner.wait_for(first.app.head(), ["report_schedules"], 10)

        # Both workers tick; and each makes the period's run by hand, at the same moment
        services = [first.workers.services, second.workers.services]
        start = threading.Barrier(len(services))
        outcomes: list[str] = []

        def run_by_hand(index: int) -> None:
            worker = services[index]
            assert worker.schedules is not None
            start.wait()
            outcomes.append(worker.schedules.run_due(UUID(made["id"]), maker(worker)))

        clock.now = clock.first + timedelta(seconds=1)
        threads = [threading.Thread(target=run_by_hand, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        wait_until(lambda: all(sink.to(a) for a in CLIENTS), timeout=60, what="the report")
        more_ticks(first, 10)
        assert [len(sink.to(a)) for a in CLIENTS] == [1, 1]
        # One run made the period (the others found it held, or sent), and recorded it once
        period = made["next_run_at"]
        assert recorded(first, made["id"], ReportSchedule.RunStarted) == [period]
        assert recorded(first, made["id"], ReportSchedule.RunSent) == [period]
        assert outcomes.count("sent") <= 1
        assert set(outcomes) <= {"sent", "busy", "nothing due"}
    finally:
        second.close()
        first.close()

    # Restarted, the workers tick on: the period stays sent; the next one goes out once
    restarted, again = bootstrap.build(fast), bootstrap.build(fast)
    try:
        restarted.follow()
        restarted.work()
        again.work()
        more_ticks(restarted, 5)
        assert [len(sink.to(a)) for a in CLIENTS] == [1, 1]
        clock.now = clock.first + timedelta(days=7, seconds=1)
        wait_until(lambda: all(len(sink.to(a)) == 2 for a in CLIENTS), timeout=60, what="week 2")
        more_ticks(restarted, 10)
        assert [len(sink.to(a)) for a in CLIENTS] == [2, 2]
        assert len(recorded(restarted, made["id"], ReportSchedule.RunSent)) == 2
        assert len(recorded(restarted, made["id"], ReportSchedule.RunStarted)) == 2
        ids = [r.message["Message-ID"] for a in CLIENTS for r in sink.to(a)]
        assert len(set(ids)) == 4
    finally:
        again.close()
        restarted.close()
