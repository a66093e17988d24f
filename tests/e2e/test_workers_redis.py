"""Workers on real brokers: Redis (exactly-once effects across a worker restart), a RabbitMQ
round trip, and the `ledgerdesk worker` command."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pydantic
import pytest
import redis
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name, xq_name
from eventsourcing.application import AggregateNotFoundError

import commands.tasks
import workers.broker
import workers.recurrence
from commands.models import OpenTask, RecurrenceRule
from domain.item_numbers import item_id
from domain.task import Task
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests import services
from tests.conftest import Echo, make_settings, wait_until
from tests.e2e.conftest import ROOT, env_for
from tests.factories import context, open_ticket
from workers.actors import Delivery
from workers.broker import UnsupportedBrokerError, open_broker

REDIS_URL = services.url(services.REDIS_VAR)  # Provisioned by tests/conftest.py.
AMQP_URL = services.url(services.AMQP_VAR)


def namespace() -> str:
    """A queue name and Redis key prefix of this test's own: parallel tests never collide."""
    return f"ldtest_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A Redis key prefix (and queue name) of this test's own, deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    name = namespace()
    yield name
    keys = list(client.scan_iter(f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def on_redis(settings: Settings, redis_namespace: str) -> Settings:
    """The test's store (SQLite or PostgreSQL) with a Redis broker of its own."""
    return settings.model_copy(
        update={"broker_url": REDIS_URL, "broker_namespace": redis_namespace}
    )


@pytest.fixture
def on_rabbitmq(tmp_path: Path) -> Iterator[Settings]:
    """An SQLite store with a RabbitMQ broker and a queue of its own (deleted after)."""
    name = namespace()
    yield make_settings("sqlite", tmp_path).model_copy(
        update={"broker_url": AMQP_URL, "broker_namespace": name}
    )
    broker = RabbitmqBroker(url=AMQP_URL)
    try:
        for queue in (name, dq_name(name), xq_name(name)):
            broker.channel.queue_delete(queue)
    finally:
        broker.close()


def test_a_committed_event_is_processed_once_on_redis_across_a_worker_restart(
    echo: Echo, on_redis: Settings
) -> None:
    bootstrap.migrate(on_redis)
    first = bootstrap.build(on_redis)
    try:
        first.follow()
        first.work()
        open_ticket(first)
        wait_until(lambda: len(echo.ids()) == 1, what="the first ticket's message")
    finally:
        first.close()
    (first_delivery,) = echo.deliveries

    # No worker runs: a new ticket's message waits in Redis, and so does the first message,
    # sent again as by a relay that crashed before marking it.
    idle = bootstrap.build(on_redis)
    try:
        open_ticket(idle)
        idle.runner.catch_up(["outbox"])
        idle.workers.relay.take_over()
        assert idle.workers.relay.relay_once() == 1
        idle.workers.send(first_delivery)
    finally:
        idle.close()
    assert len(echo.ids()) == 1

    restarted = bootstrap.build(on_redis)
    try:
        restarted.follow()
        restarted.work()
        wait_until(lambda: len(echo.ids()) >= 2, what="the waiting message")
        restarted.workers.broker.join(restarted.workers.queue, timeout=20_000)
    finally:
        restarted.close()
    assert len(echo.ids()) == len(set(echo.ids())) == 2


def test_a_message_round_trips_through_rabbitmq(echo: Echo, on_rabbitmq: Settings) -> None:
    bootstrap.migrate(on_rabbitmq)
    c = bootstrap.build(on_rabbitmq)
    try:
        assert isinstance(c.workers.broker, RabbitmqBroker)
        c.work()
        c.workers.send(Delivery("rabbit:1:test.echo", Echo.purpose, {"ticket_id": "t"}))
        wait_until(lambda: echo.ids() == ["rabbit:1:test.echo"], what="the RabbitMQ message")
    finally:
        c.close()


def test_the_broker_follows_the_url_and_an_unknown_scheme_is_a_clear_error() -> None:
    redis_broker = open_broker("redis://127.0.0.1:6379/0", "ldtest")
    assert isinstance(redis_broker, RedisBroker)
    assert redis_broker.namespace == "ldtest"
    assert isinstance(open_broker("amqp://guest:guest@127.0.0.1:5672/%2F", "x"), RabbitmqBroker)
    with pytest.raises(UnsupportedBrokerError, match="unsupported broker 'kafka'"):
        open_broker("kafka://127.0.0.1:9092", "x")
    with pytest.raises(pydantic.ValidationError, match="unsupported broker 'kafka'"):
        Settings(broker_url="kafka://127.0.0.1:9092")
    assert Settings(broker_url="").broker_url is None


def worker_env(settings: Settings) -> dict[str, str]:
    env = env_for(settings)
    if settings.broker_url is not None:
        env["LEDGERDESK_BROKER_URL"] = settings.broker_url
    env["LEDGERDESK_BROKER_NAMESPACE"] = settings.broker_namespace
    return env


def test_the_worker_command_runs_until_sigterm_and_refuses_an_unknown_broker(
    redis_namespace: str, tmp_path: Path
) -> None:
    on_redis = make_settings("sqlite", tmp_path).model_copy(
        update={"broker_url": REDIS_URL, "broker_namespace": redis_namespace}
    )
    bootstrap.migrate(on_redis)
    worker = subprocess.Popen(
        [sys.executable, "-m", "ledgerdesk", "worker", "--threads", "2"],
        env=worker_env(on_redis),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        ready, _, _ = select.select([worker.stdout], [], [], 30)
        line = worker.stdout.readline() if ready else ""
        assert f"working: Redis broker, queue '{on_redis.broker_namespace}'" in line, line
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    refused = subprocess.run(
        [sys.executable, "-m", "ledgerdesk", "worker"],
        env={**worker_env(on_redis), "LEDGERDESK_BROKER_URL": "kafka://127.0.0.1:9092"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "unsupported broker 'kafka'" in refused.stderr
    assert "Traceback" not in refused.stderr


def _occurrences(c: bootstrap.Container, series: int) -> list[str]:
    """The dates of `series`' occurrences, from the write model (items after it)."""
    dates = []
    for number in range(series + 1, series + 20):
        try:
            task = c.app.repository.get(item_id(number))
        except AggregateNotFoundError:
            break
        if isinstance(task, Task) and task.series_number == series:
            dates.append(task.occurrence_date)
    return dates


def test_recurring_occurrences_are_created_once_by_workers_on_redis(
    on_redis: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rule is set on Tuesday 1 December; the workers' calendar then moves on.
    monkeypatch.setattr(commands.tasks, "today", lambda: date(2026, 12, 1))
    now = {"day": date(2026, 12, 9)}
    monkeypatch.setattr(workers.recurrence, "today", lambda delivery: now["day"])
    # Ticks every 0.2 s, so two workers tick many times while the test runs.
    fast = on_redis.model_copy(update={"tick_seconds": 0.2})
    bootstrap.migrate(fast)
    first = bootstrap.build(fast)
    second = bootstrap.build(fast)  # A second worker process on the same queue.
    try:
        first.follow()
        first.work()
        second.work()
        cmd = OpenTask(
            title="Water the plants",
            start=date(2026, 12, 7),
            duration_days=1,
            recurrence=RecurrenceRule(frequency="daily"),
        )
        series = first.commands.open_task(cmd, context()).number
        assert series is not None
        # Setting the rule creates what is due at once (the policy); the 7th is the template.
        wait_until(
            lambda: _occurrences(first, series) == ["2026-12-08", "2026-12-09"],
            what="the occurrences due on the 9th",
        )
        now["day"] = date(2026, 12, 14)  # Ticks find the next ones (the weekend has none).
        expected = ["2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-14"]
        wait_until(lambda: _occurrences(first, series) == expected, what="the ticks' occurrences")
        ticked = _tick_count(first)
        wait_until(lambda: _tick_count(first) >= ticked + 5, what="more ticks")
    finally:
        second.close()
        first.close()
    restarted = bootstrap.build(fast)
    try:
        restarted.follow()
        restarted.work()
        ticked = _tick_count(restarted)
        wait_until(lambda: _tick_count(restarted) >= ticked + 3, what="ticks after a restart")
        assert _occurrences(restarted, series) == expected
        template = restarted.app.repository.get(item_id(series))
        assert template.last_occurrence == expected[-1]
    finally:
        restarted.close()


def _tick_count(c: bootstrap.Container) -> int:
    with c.views.read() as tx:
        row = tx.one(
            "SELECT count(*) AS n FROM worker_receipts WHERE message_id LIKE 'tick:recurrence%'"
        )
    return int(row["n"]) if row else 0


def test_a_stopping_worker_returns_what_it_fetched_and_did_not_run(
    echo: Echo, on_redis: Settings
) -> None:
    """dramatiq's Redis consumer fetches ahead of its threads. When the worker stopped while
    its consumer still held fetched messages, they stayed claimed by the stopped process
    until another worker found it dead (a minute and more): a restart held mail back."""
    bootstrap.migrate(on_redis)
    deliveries = [
        Delivery(f"fetched:{n}:test.echo", Echo.purpose, {"ticket_id": "t"}) for n in range(5)
    ]
    stopping = bootstrap.build(on_redis)
    host = stopping.workers
    fetch = host.broker.do_fetch  # type: ignore[attr-defined]

    def fetch_then_stop(queue_name: str, prefetch: int) -> list[bytes]:
        """The race, every time: the consumer is told to stop just after a fetch of several
        messages, so it hands one over and keeps the rest in its cache."""
        fetched: list[bytes] = fetch(queue_name, prefetch)
        if len(fetched) > 1 and host.worker is not None:
            host.worker.consumers[queue_name].running = False
        return fetched

    host.broker.do_fetch = fetch_then_stop  # type: ignore[attr-defined]
    try:
        for delivery in deliveries:
            host.send(delivery)
        stopping.work()
        wait_until(lambda: len(echo.ids()) >= 1, what="the message handed over")
    finally:
        stopping.close()
    assert len(echo.ids()) < len(deliveries)  # The rest were held when it stopped.
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert list(client.scan_iter(f"{on_redis.broker_namespace}:__acks__.*")) == []
    finally:
        client.close()

    restarted = bootstrap.build(on_redis)
    try:
        restarted.work()
        expected = sorted(d.message_id for d in deliveries)
        wait_until(lambda: sorted(set(echo.ids())) == expected, what="the returned messages")
    finally:
        restarted.close()
    assert sorted(echo.ids()) == expected  # Each ran once (the receipts skip a repeat).


def test_a_message_still_running_when_the_worker_stops_stays_with_it(
    echo: Echo, on_redis: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread still running a message after the stop's timeout keeps it: handing it to
    another worker would run it twice at once (it comes back after the heartbeat timeout,
    as from a killed worker)."""
    monkeypatch.setattr(workers.broker, "STOP_TIMEOUT_MS", 300)
    bootstrap.migrate(on_redis)
    delivery = Delivery("slow:1:test.echo", Echo.purpose, {"ticket_id": "t"})
    echo.gate.clear()
    stopping = bootstrap.build(on_redis)
    try:
        stopping.workers.send(delivery)
        stopping.work()
        wait_until(lambda: echo.entered == [delivery.message_id], what="the slow message")
        stopping.close()  # Gives up waiting after 300 ms: the message is still running.
        client = redis.Redis.from_url(REDIS_URL)
        try:
            queue = f"{on_redis.broker_namespace}:{on_redis.broker_namespace}"
            # (Periodic ticks sent at start may still wait in the queue: not the slow one.)
            waiting = [
                client.hget(f"{queue}.msgs", key) or b"" for key in client.lrange(queue, 0, -1)
            ]
            assert not [m for m in waiting if delivery.message_id.encode() in m]
            held = list(client.scan_iter(f"{on_redis.broker_namespace}:__acks__.*"))
            assert [client.smembers(key) for key in held] != []
        finally:
            client.close()
    finally:
        echo.gate.set()
