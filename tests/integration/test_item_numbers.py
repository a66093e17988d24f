"""Item numbers and ticket writes under real contention, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from commands.errors import VersionMismatchError
from commands.models import OpenTicket, PostMessage, RetitleTicket
from domain.ticket import Ticket
from ledgerdesk import bootstrap
from tests.factories import context, open_ticket

T = TypeVar("T")
CREATORS = 16
TICKETS_EACH = 25  # 400 numbers: the counter passes its snapshot interval (100) four times.
POSTERS = 16
MESSAGES_EACH = 4  # 64 messages: the ticket passes its snapshot interval (50).


def _in_threads(count: int, work: Callable[[int], T]) -> tuple[list[T], list[BaseException]]:
    """Run `work(i)` in `count` threads released together; their results and errors."""
    start = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def body(i: int) -> None:
        start.wait()
        try:
            result = work(i)
        except BaseException as error:
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer never finished"
    return results, errors


@pytest.mark.slow
def test_sixteen_concurrent_creators_get_unique_numbers(container: bootstrap.Container) -> None:
    # Given sixteen creators released at the same moment
    def create(i: int) -> list[int]:
        numbers = []
        for j in range(TICKETS_EACH):
            result = container.commands.open_ticket(OpenTicket(title=f"t{i}-{j}"), context())
            assert result.number is not None
            numbers.append(result.number)
        return numbers

    # When each opens its tickets concurrently
    results, errors = _in_threads(CREATORS, create)

    # Then every ticket got a number, none twice, and none was skipped
    assert errors == []
    numbers = [n for batch in results for n in batch]
    total = CREATORS * TICKETS_EACH
    assert len(numbers) == total
    assert len(set(numbers)) == total
    assert sorted(numbers) == list(range(1, total + 1))
    # And each creator saw its own numbers rise (the counter never goes back)
    assert all(batch == sorted(batch) for batch in results)
    # And every number loads the ticket that was issued it
    for number in numbers:
        opened = container.commands.ticket_events(number)[0]
        assert isinstance(opened, Ticket.Opened)
        assert opened.number == number


@pytest.mark.slow
def test_concurrent_messages_to_one_ticket_are_all_kept(container: bootstrap.Container) -> None:
    # Given a ticket
    number = open_ticket(container)

    # When sixteen writers post to it at once, without an expected version
    def post(i: int) -> list[str]:
        bodies = []
        for j in range(MESSAGES_EACH):
            body = f"message {i}-{j}"
            container.commands.change_ticket(
                number,
                [PostMessage(message_id=uuid.uuid4(), body=body, visibility="internal")],
                context(),
            )
            bodies.append(body)
        return bodies

    results, errors = _in_threads(POSTERS, post)

    # Then no update was lost: every message is in the ticket's history, once
    assert errors == []
    sent = sorted(body for batch in results for body in batch)
    events = container.commands.ticket_events(number)
    posted = [e for e in events if isinstance(e, Ticket.InternalMessagePosted)]
    assert sorted(e.body for e in posted) == sent
    assert len(sent) == POSTERS * MESSAGES_EACH
    assert [e.originator_version for e in events] == list(range(1, len(sent) + 2))
    # And a fresh process, loading the ticket from its snapshot, knows every message
    assert list(container.app.snapshots.get(events[0].originator_id)) != []
    fresh = bootstrap.build(container.settings)
    try:
        ticket: Any = fresh.app.repository.get(events[0].originator_id)
    finally:
        fresh.close()
    assert ticket.version == len(sent) + 1
    assert len(ticket.message_visibility) == len(sent)


def test_stale_expected_version_is_refused(container: bootstrap.Container) -> None:
    # Given a ticket at version 1 that someone retitles (version 2)
    number = open_ticket(container, title="Printer jammed")
    container.commands.change_ticket(
        number, [RetitleTicket(title="Printer on fire")], context(), expected_version=1
    )

    # When another writer still holding version 1 retitles it
    with pytest.raises(VersionMismatchError) as refused:
        container.commands.change_ticket(
            number, [RetitleTicket(title="Printer fine")], context(), expected_version=1
        )

    # Then the write is refused with the current version, and nothing changed
    assert refused.value.actual == 2
    events = container.commands.ticket_events(number)
    assert len(events) == 2
    assert events[-1].title == "Printer on fire"  # type: ignore[attr-defined]


@pytest.mark.slow
def test_concurrent_writers_with_the_same_expected_version_only_one_wins(
    container: bootstrap.Container,
) -> None:
    # Given a ticket at version 1
    number = open_ticket(container, title="Printer jammed")

    # When sixteen writers retitle it at once, each expecting version 1
    def retitle(i: int) -> int:
        return container.commands.change_ticket(
            number, [RetitleTicket(title=f"title {i}")], context(), expected_version=1
        ).version

    results, errors = _in_threads(POSTERS, retitle)

    # Then exactly one write lands; every other is refused as stale, none retried onto it
    assert results == [2]
    assert len(errors) == POSTERS - 1
    assert all(isinstance(e, VersionMismatchError) and e.actual == 2 for e in errors)
    assert len(container.commands.ticket_events(number)) == 2
