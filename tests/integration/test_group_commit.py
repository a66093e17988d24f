"""Group commit on SQLite and PostgreSQL: commands that arrive together are saved in one
transaction, each deciding on the state the ones before it left, a refused command changes
nothing for the others, and another process's write makes each command save on its own."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from eventsourcing.application import project_aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent

from commands.application import LedgerDesk
from commands.errors import VersionMismatchError
from commands.event_store import ONE_TRIP_EVENTS, LedgerDeskRecorder, LogHead, LogMoved
from commands.forks import fork
from commands.intake.catalogue import IntakeCatalogue
from commands.models import OpenTicket, RetitleTicket
from commands.unit_of_work import UnitOfWork
from domain.errors import InvalidValueError
from domain.item_numbers import COUNTER_ID, item_id
from domain.ticket import Ticket
from domain.values import Channel
from ledgerdesk import bootstrap
from tests.conftest import PG_URL
from tests.factories import context, open_ticket

WAITING = 6


def _queued(container: bootstrap.Container, count: int) -> None:
    """Wait until `count` commands wait behind the batch in progress."""
    deadline = time.monotonic() + 30
    while len(container.app.group_commit._queue) < count:
        assert time.monotonic() < deadline, "the commands never queued"
        time.sleep(0.001)


def _batch_behind_a_slow_command(
    container: bootstrap.Container, commands: Sequence[Callable[[], Any]]
) -> list[Any]:
    """Start a command that decides slowly; while it does, start `commands` in threads (they
    queue, and are then decided together as one batch); the outcome (or error) of each."""
    release = threading.Event()

    def slow(uow: UnitOfWork) -> list[Any]:
        release.wait(30)
        return []

    leader = threading.Thread(target=lambda: container.app.group_commit.run(COUNTER_ID, slow))
    leader.start()
    while not container.app.group_commit._leading:
        time.sleep(0.001)
    outcomes: list[Any] = [None] * len(commands)

    def call(i: int) -> None:
        try:
            outcomes[i] = commands[i]()
        except Exception as error:
            outcomes[i] = error

    threads = []
    for i in range(len(commands)):
        threads.append(threading.Thread(target=call, args=(i,)))
        threads[-1].start()
        _queued(container, i + 1)  # In this order: the batch decides them in it.
    release.set()
    for thread in [leader, *threads]:
        thread.join(60)
        assert not thread.is_alive()
    return outcomes


def test_commands_arriving_together_are_one_transaction_in_order(
    container: bootstrap.Container,
) -> None:
    # Given a first ticket, and commands waiting while another decides
    first = open_ticket(container)
    batches = container.app.group_commit.batches
    head = container.app.head()

    def opener(i: int) -> Callable[[], Any]:
        return lambda: container.commands.open_ticket(OpenTicket(title=f"t{i}"), context())

    # When six open tickets at once
    results = _batch_behind_a_slow_command(container, [opener(i) for i in range(WAITING)])

    # Then they took the next numbers in the order they came, in one batch after the slow one
    assert [r.number for r in results] == list(range(first + 1, first + 1 + WAITING))
    assert container.app.group_commit.batches == batches + 2
    # And their twelve events (counter and ticket each) are one contiguous run of the log
    positions = [r.position for r in results]
    assert positions == sorted(positions)
    assert positions[-1] == head + 2 * WAITING
    # And every one loads as the ticket its number names
    for i, result in enumerate(results):
        events = container.commands.ticket_events(result.number)
        assert isinstance(events[0], Ticket.Opened)
        assert events[0].title == f"t{i}"


def test_a_refused_command_in_a_batch_changes_nothing_for_the_others(
    container: bootstrap.Container,
) -> None:
    # Given a ticket at version 1
    number = open_ticket(container)
    first = number

    def refused_after_taking_a_number(uow: UnitOfWork) -> list[Any]:
        # Takes a number on the shared counter, then is refused: the number must not count.
        uow.counter().issue("ticket", context().actor, "refused")
        raise InvalidValueError("title", "refused on purpose")

    commands: list[Callable[[], Any]] = [
        lambda: container.commands.open_ticket(OpenTicket(title="a"), context()),
        lambda: container.app.group_commit.run(COUNTER_ID, refused_after_taking_a_number),
        lambda: container.commands.change_ticket(
            number, [RetitleTicket(title="b")], context(), expected_version=1
        ),
        # Decided after the retitle in the same batch: version 1 is no longer current.
        lambda: container.commands.change_ticket(
            number, [RetitleTicket(title="c")], context(), expected_version=1
        ),
        lambda: container.commands.open_ticket(OpenTicket(title="d"), context()),
    ]

    # When they are decided as one batch
    outcomes = _batch_behind_a_slow_command(container, commands)

    # Then the refusals answer their callers alone
    assert isinstance(outcomes[1], InvalidValueError)
    assert isinstance(outcomes[3], VersionMismatchError)
    # And the others are saved, with no number lost to the refused one
    assert [outcomes[0].number, outcomes[4].number] == [first + 1, first + 2]
    assert outcomes[2].version == 2
    events = container.commands.ticket_events(number)
    assert [e.title for e in events if isinstance(e, Ticket.Retitled)] == ["b"]
    counter: Any = container.app.repository.get(COUNTER_ID)
    assert counter.last_issued == first + 2


@pytest.fixture
def other(container: bootstrap.Container) -> Iterator[bootstrap.Container]:
    """Another process writing to the same event store."""
    built = bootstrap.build(container.settings)
    yield built
    built.close()


def test_another_processs_write_makes_each_command_save_on_its_own(
    container: bootstrap.Container,
    other: bootstrap.Container,
) -> None:
    # Given another process writing to the same event store
    first = open_ticket(container)
    fallbacks = container.app.group_commit.fallbacks
    theirs: list[int] = []

    def open_theirs_meanwhile(uow: UnitOfWork) -> list[Any]:
        # While this batch decides, the other process takes the next number first.
        if not theirs:
            theirs.append(open_ticket(other, title="theirs"))
        return []

    commands: list[Callable[[], Any]] = [
        lambda: container.commands.open_ticket(OpenTicket(title="a"), context()),
        lambda: container.app.group_commit.run(COUNTER_ID, open_theirs_meanwhile),
        lambda: container.commands.open_ticket(OpenTicket(title="b"), context()),
    ]

    # When the batch saves, after the other process's write
    outcomes = _batch_behind_a_slow_command(container, commands)

    # Then it fell back to saving each command alone: none is lost, no number is taken twice
    assert container.app.group_commit.fallbacks == fallbacks + len(commands)
    numbers = sorted([outcomes[0].number, outcomes[2].number, *theirs])
    assert numbers == [first + 1, first + 2, first + 3]
    assert theirs == [first + 1]
    titles = {container.commands.ticket_events(n)[0].title for n in numbers}
    assert titles == {"a", "b", "theirs"}


@pytest.mark.parametrize("fails_first", [True, False])
def test_a_failed_save_answers_every_command_of_the_batch(
    container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch, fails_first: bool
) -> None:
    # Given an event store that fails the next write (say the database went away)
    first = open_ticket(container)
    real = container.app.save_events
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 1 and fails_first:
            raise OSError("the database is gone")
        return real(*args, **kwargs)

    monkeypatch.setattr(container.app, "save_events", failing)

    def opener(i: int) -> Callable[[], Any]:
        return lambda: container.commands.open_ticket(OpenTicket(title=f"t{i}"), context())

    # When a batch is decided and saved
    outcomes = _batch_behind_a_slow_command(container, [opener(i) for i in range(3)])

    # Then each command answers with the failure or its ticket, and the next command works
    if fails_first:
        assert all(isinstance(o, OSError) for o in outcomes)
    else:
        assert [o.number for o in outcomes] == [first + 1, first + 2, first + 3]
    after = open_ticket(container)
    assert after == first + (1 if fails_first else 4)


def test_an_answer_shows_its_own_write_not_what_the_batch_did_after_it(
    container: bootstrap.Container,
) -> None:
    # Given a ticket at version 1
    number = open_ticket(container)

    def retitle_then_refuse(uow: UnitOfWork) -> list[Any]:
        ticket = uow.ticket(number)
        ticket.retitle("c", context().actor, "refused")  # Undone: the command is refused.
        raise InvalidValueError("title", "refused on purpose")

    commands: list[Callable[[], Any]] = [
        lambda: container.commands.change_ticket(number, [RetitleTicket(title="b")], context()),
        lambda: container.app.group_commit.run(COUNTER_ID, retitle_then_refuse),
        lambda: container.commands.change_ticket(number, [RetitleTicket(title="d")], context()),
    ]

    # When a batch changes it, a command in the middle changing it and then being refused
    outcomes = _batch_behind_a_slow_command(container, commands)

    # Then each answer names the version its own write made, and the refused one left nothing
    assert isinstance(outcomes[1], InvalidValueError)
    assert [outcomes[0].version, outcomes[2].version] == [2, 3]
    events = container.commands.ticket_events(number)
    assert [e.title for e in events if isinstance(e, Ticket.Retitled)] == ["b", "d"]


def test_a_command_may_not_run_another_while_it_decides(container: bootstrap.Container) -> None:
    def nested(uow: UnitOfWork) -> list[Any]:
        container.commands.open_ticket(OpenTicket(title="inner"), context())
        return []

    with pytest.raises(RuntimeError, match="may not run another command"):
        container.app.group_commit.run(COUNTER_ID, nested)


def test_a_failing_commit_listener_does_not_fail_the_saved_write(
    container: bootstrap.Container,
) -> None:
    # Given a listener on commits that fails (an embedded view's database error, say)
    def broken(position: int) -> None:
        raise OSError("the view database is gone")

    container.app.on_commit(broken)

    # When a ticket is opened, its answer is the saved ticket, not the listener's error
    number = open_ticket(container)
    assert container.commands.ticket_events(number)[0].number == number


def test_a_batch_decides_on_what_another_process_wrote_since_the_batch_before(
    container: bootstrap.Container,
    other: bootstrap.Container,
) -> None:
    # Given a batch that read the counter and the item types (kept for the next batch)
    open_ticket(container)
    first = open_ticket(container, item_type="feedback")
    fallbacks, moved = container.app.group_commit.fallbacks, container.app.group_commit.moved

    # When another process takes a number and retires the type, then this one opens
    theirs = open_ticket(other)
    IntakeCatalogue(other.app).retire_item_type("feedback", context())
    mine = open_ticket(container)

    # Then this process's next batch took the number after theirs, without a conflict
    assert (theirs, mine) == (first + 1, first + 2)
    assert container.app.group_commit.fallbacks == fallbacks
    if isinstance(container.app.recorder, LedgerDeskRecorder):
        # (on PostgreSQL it decided on what it kept, found in its save that the log had
        # moved on, and decided again on what the log holds)
        assert container.app.group_commit.moved == moved + 1
    # And it knows the type is retired
    with pytest.raises(InvalidValueError, match="retired"):
        container.commands.open_ticket(OpenTicket(title="x", item_type="feedback"), context())


def test_a_snapshot_taken_after_a_batch_is_the_state_its_events_make(
    container: bootstrap.Container,
) -> None:
    # Given a counter three numbers short of its snapshot interval (version 97 of 100)
    for _ in range(96):
        open_ticket(container)

    def opener(i: int) -> Callable[[], Any]:
        return lambda: container.commands.open_ticket(OpenTicket(title=f"t{i}"), context())

    # When one batch takes it past the interval (versions 98 to 103)
    _batch_behind_a_slow_command(container, [opener(i) for i in range(WAITING)])

    # Then the snapshot is at the batch's last version, and equals the events replayed
    assert container.app.snapshots is not None
    snapshot = next(iter(container.app.snapshots.get(COUNTER_ID, desc=True, limit=1)))
    assert snapshot.originator_version == 97 + WAITING
    from_snapshot = snapshot.mutate(None)  # type: ignore[attr-defined]
    replayed: Any = project_aggregate(None, container.app.events.get(COUNTER_ID))
    assert vars(from_snapshot) == vars(replayed)
    assert replayed.last_issued == 96 + WAITING


def test_a_copy_for_the_next_command_shares_no_state_with_the_answer() -> None:
    # Given a ticket with nested state
    ticket = Ticket.open(
        number=1,
        title="Printer",
        description="",
        requester_email=None,
        channel=Channel.API,
        priority="normal",
        actor=context().actor,
        correlation_id="c",
        fields={"a": "1"},
    )
    ticket.collect_events()

    # When its copy changes
    copy = fork(ticket)
    copy.fields["a"] = "2"
    copy.assignees.append("someone")
    copy.retitle("Scanner", context().actor, "c")

    # Then the original is as it was, and the copy is a full one
    assert (ticket.fields, ticket.assignees, ticket.title) == ({"a": "1"}, [], "Printer")
    assert (copy.id, copy.number, copy.version) == (ticket.id, 1, 2)
    assert ticket.pending_events == []


def _stored(aggregate_id: uuid.UUID, version: int) -> StoredEvent:
    state = f'{{"n":{version},"at":"{datetime.now(UTC).isoformat()}","text":"it\'s \\ ok"}}'
    return StoredEvent(
        originator_id=aggregate_id,
        originator_version=version,
        topic="tests:E",
        state=state.encode(),
    )


@pytest.mark.parametrize("count", [1, ONE_TRIP_EVENTS, ONE_TRIP_EVENTS + 1])
def test_a_save_records_its_events_in_order_and_a_conflict_saves_nothing(
    container: bootstrap.Container, count: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="psycopg.pool")
    # Given a saved event
    recorder = container.app.recorder
    aggregate_id = uuid.uuid4()
    [first] = recorder.insert_events([_stored(aggregate_id, 1)]) or []

    # When a save of `count` events conflicts on its last, then the same save without it
    events = [_stored(aggregate_id, v) for v in range(2, count + 2)]
    with pytest.raises(IntegrityError):
        recorder.insert_events([*events[:-1], _stored(aggregate_id, 1)])
    ids = recorder.insert_events(events) or []

    # Then the conflicting save left nothing, and the other recorded every event in order
    stored = recorder.select_events(aggregate_id)
    assert [e.originator_version for e in stored] == list(range(1, count + 2))
    assert [e.state for e in stored[1:]] == [e.state for e in events]
    assert len(ids) == count
    assert ids == sorted(ids)
    assert ids[0] > first
    notifications = recorder.select_notifications(ids[0], limit=count)
    assert [(n.id, n.originator_version) for n in notifications] == list(
        zip(ids, range(2, count + 2), strict=True)
    )
    # And every session of the pool is out of the aborted transaction
    _none_returned_in_a_transaction(caplog)


def _none_returned_in_a_transaction(caplog: pytest.LogCaptureFixture) -> None:
    """The pool rolls back, and says so, a connection handed back inside a transaction:
    each save's own connection context must have ended it, aborted or not (the caller sets
    `psycopg.pool`'s level to WARNING: the event-store library silences it)."""
    said = [r.getMessage() for r in caplog.records if r.name.startswith("psycopg.pool")]
    assert not [m for m in said if "rolling back returned connection" in m], said


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
def test_a_batch_after_a_saved_one_decides_without_reading_what_it_kept(
    container: bootstrap.Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a saved batch (which read the counter: kept for the next batch)
    open_ticket(container)
    open_ticket(container)
    reads: list[dict[uuid.UUID, int]] = []
    recorder = container.app.recorder
    assert isinstance(recorder, LedgerDeskRecorder)
    real = recorder.select_after

    def counted(versions: dict[uuid.UUID, int]) -> Any:
        reads.append(versions)
        return real(versions)

    monkeypatch.setattr(recorder, "select_after", counted)

    # When this process alone opens more tickets
    numbers = [open_ticket(container) for _ in range(3)]

    # Then no batch read its kept state again (each save checked the log's head instead),
    # and the numbers follow on
    assert reads == []
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]
    assert container.app.group_commit.moved == 0


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
@pytest.mark.parametrize("count", [1, ONE_TRIP_EVENTS + 1])
def test_a_save_expecting_the_log_elsewhere_writes_nothing(
    container: bootstrap.Container, count: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="psycopg.pool")
    # Given a log with an event in it, and its head
    recorder = container.app.recorder
    assert isinstance(recorder, LedgerDeskRecorder)
    aggregate_id = uuid.uuid4()
    [head] = recorder.insert_events([_stored(aggregate_id, 1)]) or []
    events = [_stored(aggregate_id, v) for v in range(2, count + 2)]

    # When a save expects the head one behind where it is
    with pytest.raises(LogMoved):
        recorder.insert_events(events, head=LogHead(expected=head - 1))

    # Then it wrote nothing; and a save expecting it where it is writes, seeing it there
    assert [e.originator_version for e in recorder.select_events(aggregate_id)] == [1]
    seen = LogHead(expected=head)
    ids = recorder.insert_events(events, head=seen) or []
    assert len(ids) == count
    assert seen.seen == head
    _none_returned_in_a_transaction(caplog)


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
def test_a_batch_that_saves_nothing_decides_again_when_the_log_moved_on(
    container: bootstrap.Container,
    other: bootstrap.Container,
) -> None:
    # Given a ticket this process changed (so its batch keeps it, known current)
    open_ticket(container)
    number = open_ticket(container, title="Printer jammed")
    container.commands.change_ticket(number, [RetitleTicket(title="Printer fixed")], context())
    moved = container.app.group_commit.moved

    # When another process retitles it, and this one is asked to put the old title back
    # at the version the other process left (a batch that, on the kept state, would be
    # refused: a version mismatch, nothing to save)
    theirs = other.commands.change_ticket(
        number, [RetitleTicket(title="Printer jammed")], context()
    )
    result = container.commands.change_ticket(
        number, [RetitleTicket(title="Printer fixed")], context(), theirs.version
    )

    # Then it was decided again on what the log holds, and saved
    assert container.app.group_commit.moved == moved + 1
    assert result.version == theirs.version + 1
    ticket = container.app.repository.get(item_id(number))
    assert ticket.title == "Printer fixed"


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
@pytest.mark.parametrize("count", [1, ONE_TRIP_EVENTS + 1])
def test_a_save_that_times_out_on_the_table_lock_writes_nothing_and_the_next_one_works(
    container: bootstrap.Container, count: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="psycopg.pool")
    # Given an event store that waits one second at most for the events table's lock, and
    # another session holding that lock
    env = {**container.settings.event_store_env(create_table=False), "POSTGRES_LOCK_TIMEOUT": "1"}
    app = LedgerDesk(env=env)
    try:
        recorder = app.recorder
        assert isinstance(recorder, LedgerDeskRecorder)
        aggregate_id = uuid.uuid4()
        events = [_stored(aggregate_id, v) for v in range(1, count + 1)]
        table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
        with psycopg.connect(PG_URL) as holder:
            holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

            # When a save is made meanwhile
            with pytest.raises(PersistenceError, match="lock timeout"):
                recorder.insert_events(events, head=LogHead())
            holder.rollback()

        # Then it wrote nothing, its connection went back clean, and the next save works
        assert recorder.select_events(aggregate_id) == []
        assert len(recorder.insert_events(events) or []) == count
        _none_returned_in_a_transaction(caplog)
    finally:
        app.close()
