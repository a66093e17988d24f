"""Group commit on SQLite and PostgreSQL: commands that arrive together are saved in one
transaction, each deciding on the state the ones before it left, a refused command changes
nothing for the others, and another process's write makes each command save on its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from commands.errors import VersionMismatchError
from commands.models import OpenTicket, RetitleTicket
from commands.unit_of_work import UnitOfWork
from domain.errors import InvalidValueError
from domain.item_numbers import COUNTER_ID
from domain.ticket import Ticket
from ledgerdesk import bootstrap
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


def test_another_processs_write_makes_each_command_save_on_its_own(
    container: bootstrap.Container,
) -> None:
    # Given another process writing to the same event store
    other = bootstrap.build(container.settings)
    try:
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
    finally:
        other.close()

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

    def failing(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 1 and fails_first:
            raise OSError("the database is gone")
        return real(*args)

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
