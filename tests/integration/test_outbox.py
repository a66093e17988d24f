"""The outbox on SQLite and PostgreSQL: messages only from committed events, sent at least once,
acted on exactly once; rebuilds send nothing again; periodic ticks; one relay per install."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

import workers.registry as worker_registry
from commands.log_context import log_context
from commands.models import Context, OpenTicket, RetitleTicket
from commands.recurrence import RecurrenceService
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections import outbox
from projections.base import current_tables
from tests.conftest import ECHO_POLICY, Echo, make_settings, wait_until
from tests.factories import context, open_ticket
from workers.actors import Delivery, WorkerServices
from workers.host import WorkerHost
from workers.relay import Relay, RelayClaim
from workers.ticks import Periodic, Ticker


class Crash(BaseException):
    """The process dies here (not an error anything may catch)."""


class CrashingRelay(Relay):
    """A relay whose process dies after sending a batch, before marking it sent."""

    def mark_sent(self, message_ids: list[str], position: int | None = None) -> None:
        raise Crash


@pytest.fixture
def desk(echo: Echo, settings: Settings) -> Iterator[bootstrap.Container]:
    """Migrated storage and every service, with the echo policy and actor; nothing running."""
    bootstrap.migrate(settings)
    built = bootstrap.build(settings)
    yield built
    built.close()


@pytest.fixture
def worker(desk: bootstrap.Container) -> Iterator[dramatiq.Worker]:
    """Real dramatiq worker threads on the desk's in-memory broker (no relay, no ticks)."""
    running = dramatiq.Worker(desk.workers.broker, worker_threads=2, worker_timeout=100)
    running.start()
    yield running
    running.stop()


def relay_of(c: bootstrap.Container, cls: type[Relay] = Relay) -> Relay:
    """A fresh relay (as after a process restart) sending to the container's actors."""
    relay = cls(c.views, c.workers.send, c.workers.actors, durable=True)
    relay.take_over()
    return relay


def settle(c: bootstrap.Container, running: dramatiq.Worker) -> None:
    """Wait until every enqueued message has been processed."""
    c.workers.broker.join(c.workers.queue, timeout=20_000)
    running.join()


def outbox_rows(c: bootstrap.Container) -> list[dict[str, object]]:
    with c.views.read() as tx:
        table = current_tables(tx, "outbox")["outbox_messages"]
        return tx.all(f"SELECT message_id, purpose, position FROM {table} ORDER BY position")


def echoes(c: bootstrap.Container) -> list[object]:
    """The ids of the outbox's messages to the echo actor (the shipped policies add theirs)."""
    return [r["message_id"] for r in outbox_rows(c) if r["purpose"] == Echo.purpose]


def test_a_message_is_relayed_only_once_its_event_is_committed_and_projected(
    desk: bootstrap.Container,
) -> None:
    sent: list[Delivery] = []
    relay = Relay(desk.views, sent.append, {Echo.purpose}, durable=True)
    number = open_ticket(desk)
    desk.commands.change_ticket(number, [RetitleTicket(title="Retitled")], context())

    # Committed but not yet in the outbox view: nothing to send.
    assert relay.relay_once() == 0
    desk.runner.catch_up(["outbox"])
    assert relay.relay_once() == 1
    assert relay.relay_once() == 0

    # One message per opened ticket (the retitle asks for nothing), id = event + purpose.
    (delivery,) = sent
    rows = outbox_rows(desk)
    assert [r["message_id"] for r in rows] == [delivery.message_id]
    ticket_id = delivery.payload["ticket_id"]
    assert delivery.message_id == f"{ticket_id}:1:test.echo"


def test_a_relay_restarted_between_send_and_mark_sends_again_and_the_actor_acts_once(
    desk: bootstrap.Container, echo: Echo, worker: dramatiq.Worker
) -> None:
    open_ticket(desk)
    desk.runner.catch_up(["outbox"])

    with pytest.raises(Crash):
        relay_of(desk, CrashingRelay).relay_once()
    settle(desk, worker)
    assert len(echo.ids()) == 1

    restarted = relay_of(desk)
    assert restarted.relay_once() == 1  # Never marked: sent again.
    settle(desk, worker)
    assert restarted.relay_once() == 0

    assert len(echo.ids()) == 1  # The receipt made the second delivery a no-op.
    with desk.views.read() as tx:
        assert tx.all("SELECT message_id FROM worker_receipts") == [{"message_id": echo.ids()[0]}]


def test_an_actor_logs_under_the_correlation_id_of_the_request_that_called_for_it(
    desk: bootstrap.Container, echo: Echo, worker: dramatiq.Worker
) -> None:
    traced = Context(actor=Actor.system("tests"), correlation_id="trace-worker-1")
    desk.commands.open_ticket(OpenTicket(title="Traced"), traced)
    desk.runner.catch_up(["outbox"])
    assert relay_of(desk).relay_once() == 1
    settle(desk, worker)
    (delivery,) = echo.deliveries
    assert outbox.CORRELATION_KEY not in delivery.payload  # no actor sees it
    (fields,) = echo.logged
    assert fields["correlation_id"] == "trace-worker-1"
    assert fields["actor_name"] == Echo.purpose
    assert fields["message_id"] == delivery.message_id


def test_a_message_sent_while_another_runs_carries_its_correlation_id_on(
    desk: bootstrap.Container, echo: Echo, worker: dramatiq.Worker
) -> None:
    with log_context(correlation_id="trace-send-1"):
        desk.workers.send(Delivery("later:1:test.echo", Echo.purpose, {"ticket_id": "t"}))
    settle(desk, worker)
    (delivery,) = echo.deliveries
    assert delivery.payload == {"ticket_id": "t"}
    (fields,) = echo.logged
    assert fields["correlation_id"] == "trace-send-1"


def test_the_backlog_counts_what_the_relay_has_not_sent(
    desk: bootstrap.Container, echo: Echo, worker: dramatiq.Worker
) -> None:
    def waiting() -> tuple[int, int | None]:
        with desk.views.read() as tx:
            return outbox.backlog(tx, current_tables(tx, "outbox"))

    relay = relay_of(desk)
    relay.take_over()
    assert waiting() == (0, None)
    open_ticket(desk)
    position = desk.app.head()
    desk.runner.catch_up(["outbox"])
    assert waiting() == (1, position)
    assert relay.relay_once() == 1
    assert waiting() == (0, None)
    with desk.views.read() as tx:  # counted from here on, not over the whole history
        assert tx.one("SELECT position FROM outbox_relayed") == {"position": position}


def test_a_redelivered_message_is_a_no_op(
    desk: bootstrap.Container, echo: Echo, worker: dramatiq.Worker
) -> None:
    delivery = Delivery("some-event:1:test.echo", Echo.purpose, {"ticket_id": "t"})
    desk.workers.send(delivery)
    settle(desk, worker)
    desk.workers.send(delivery)
    desk.workers.send(delivery)
    settle(desk, worker)
    assert echo.ids() == [delivery.message_id]


def test_a_failed_effect_leaves_no_receipt_so_the_retry_acts(
    desk: bootstrap.Container, echo: Echo
) -> None:
    actor = desk.workers.actors[Echo.purpose]
    echo.fail_next = 1
    with pytest.raises(RuntimeError):
        actor("e:1:test.echo", {"ticket_id": "t"})
    assert not desk.workers.receipts.done("e:1:test.echo")
    actor("e:1:test.echo", {"ticket_id": "t"})
    actor("e:1:test.echo", {"ticket_id": "t"})
    assert echo.ids() == ["e:1:test.echo"]
    assert desk.workers.receipts.done("e:1:test.echo")


def test_a_rebuilt_outbox_sends_nothing_again_and_verifies(desk: bootstrap.Container) -> None:
    sent: list[Delivery] = []
    relay = Relay(desk.views, sent.append, {Echo.purpose}, durable=True)
    open_ticket(desk)
    open_ticket(desk)
    desk.runner.catch_up(["outbox"])
    assert relay.relay_once() == 2
    before = outbox_rows(desk)

    assert desk.runner.rebuild("outbox") == 2
    assert outbox_rows(desk) == before
    assert desk.runner.verify("outbox") == []
    assert relay_of(desk).relay_once() == 0

    open_ticket(desk)
    desk.runner.catch_up(["outbox"])
    assert relay.relay_once() == 1
    assert len({d.message_id for d in sent}) == 3


@pytest.mark.parametrize("migrated", [True, False], ids=["migrated", "not-migrated"])
def test_a_policy_added_later_never_reacts_to_history_even_after_a_rebuild(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, migrated: bool
) -> None:
    bootstrap.migrate(settings)
    before = bootstrap.build(settings)
    try:
        open_ticket(before)
        before.runner.catch_up(["outbox"])
    finally:
        before.close()

    # The next release adds the policy.
    monkeypatch.setattr(outbox, "POLICIES", (*outbox.POLICIES, ECHO_POLICY))
    if migrated:
        bootstrap.migrate(settings)
    after = bootstrap.build(settings)
    try:
        number = open_ticket(after)
        after.runner.catch_up(["outbox"])
        new_ticket = after.commands.ticket_events(number)[0].originator_id
        assert echoes(after) == [f"{new_ticket}:1:test.echo"]
        after.runner.rebuild("outbox")
        assert echoes(after) == [f"{new_ticket}:1:test.echo"]
        assert after.runner.verify("outbox") == []
    finally:
        after.close()


def test_embedded_work_acts_once_on_each_committed_event(
    desk: bootstrap.Container, echo: Echo
) -> None:
    desk.follow()
    desk.work()
    open_ticket(desk)
    open_ticket(desk)
    wait_until(lambda: len(echo.ids()) >= 2, what="both tickets' messages")
    wait_until(lambda: relay_of(desk).pending() == [], what="the relay to mark them sent")
    desk.workers.broker.join(desk.workers.queue, timeout=20_000)
    assert len(set(echo.ids())) == len(echo.ids()) == 2


def test_a_restarted_embedded_process_sends_what_its_in_memory_queue_lost(
    echo: Echo, settings: Settings
) -> None:
    bootstrap.migrate(settings)
    crashed = bootstrap.build(settings)
    open_ticket(crashed)
    crashed.runner.catch_up(["outbox"])
    assert crashed.workers.relay.relay_once() == 1  # Sent and marked; never processed.
    crashed.close()

    restarted = bootstrap.build(settings)
    try:
        restarted.work()
        wait_until(lambda: len(echo.ids()) == 1, what="the lost message to be sent again")
    finally:
        restarted.close()
    assert len(echo.ids()) == 1


def test_periodic_ticks_act_once_per_slot_however_many_processes_tick(
    desk: bootstrap.Container, echo: Echo
) -> None:
    now = [datetime(2030, 1, 1, 12, 0, 5, tzinfo=UTC)]

    def clock() -> datetime:
        return now[0]

    running = dramatiq.Worker(desk.workers.broker, worker_threads=2, worker_timeout=100)
    running.start()
    try:
        processes = [
            Ticker(
                [Periodic(Echo.purpose, {"kind": "tick"})], desk.workers.send, 60, lambda: now[0]
            )
            for _ in range(2)
        ]
        for ticker in processes:
            (delivery,) = ticker.tick()
            assert delivery.payload == {"kind": "tick", "at": "2030-01-01T12:00:00.000000Z"}
        now[0] += timedelta(seconds=50)  # Still the same slot.
        processes[0].tick()
        now[0] += timedelta(seconds=10)
        processes[1].tick()
        settle(desk, running)
    finally:
        running.stop()
    assert echo.ids() == [
        "tick:test.echo:2030-01-01T12:00:00.000000Z",
        "tick:test.echo:2030-01-01T12:01:00.000000Z",
    ]


def test_the_ticker_thread_sends_periodic_messages(
    monkeypatch: pytest.MonkeyPatch, echo: Echo, settings: Settings
) -> None:
    monkeypatch.setattr(worker_registry, "PERIODIC", (Periodic(Echo.purpose),))
    fast = settings.model_copy(update={"tick_seconds": 0.05})
    bootstrap.migrate(fast)
    c = bootstrap.build(fast)
    try:
        c.work()
        wait_until(lambda: len(echo.ids()) >= 2, what="two ticks")
    finally:
        c.close()
    assert all(i.startswith("tick:test.echo:") for i in echo.ids())


def test_a_periodic_message_needs_an_actor(desk: bootstrap.Container) -> None:
    services = WorkerServices(
        desk.app,
        desk.commands,
        desk.accounts,
        desk.teams,
        desk.customers,
        desk.projects,
        desk.views,
        RecurrenceService(desk.app),
        desk.mail_out,
    )
    with pytest.raises(ValueError, match=r"without an actor: nobody\.listens"):
        WorkerHost(
            StubBroker(),
            "q",
            desk.views,
            services,
            [],
            [Periodic("nobody.listens")],
            threads=1,
            tick_seconds=1,
            head=lambda: 0,
            wait_for_outbox=lambda position, timeout: True,
        )


def test_containers_in_one_process_have_their_own_brokers(echo: Echo, tmp_path: Path) -> None:
    one = bootstrap.build(make_settings("sqlite", tmp_path / "one"))
    two = bootstrap.build(make_settings("sqlite", tmp_path / "two"))
    try:
        assert one.workers.broker is not two.workers.broker
        assert one.workers.actors[Echo.purpose].broker is one.workers.broker
        assert two.workers.actors[Echo.purpose].broker is two.workers.broker
        assert dramatiq.broker.global_broker is None  # Nothing declares on the global one.
    finally:
        one.close()
        two.close()


@pytest.mark.postgres
def test_one_relay_is_active_per_install_on_postgres(pg_schema: str, tmp_path: Path) -> None:
    settings = make_settings("postgres", tmp_path, pg_schema)
    bootstrap.migrate(settings)
    c = bootstrap.build(settings)
    first, second = RelayClaim(c.views), RelayClaim(c.views)
    try:
        assert first.claim()
        assert not second.claim()
        first.release()
        assert second.claim()
    finally:
        first.release()
        second.release()
        c.close()
