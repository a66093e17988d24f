"""Handlers on the in-memory event store: load, decide, save, return what callers need."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.application import LedgerDesk
from commands.blobs import LocalBlobStore
from commands.errors import (
    AttachmentTooLargeError,
    TicketNotFoundError,
    UserNotFoundError,
    VersionMismatchError,
)
from commands.models import (
    AssignUser,
    ChangeTicketStatus,
    OpenTicket,
    RetitleTicket,
)
from commands.service import CommandService
from tests.factories import SYSTEM


@pytest.fixture
def service(tmp_path: Path) -> Iterator[CommandService]:
    app = LedgerDesk(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield CommandService(app, LocalBlobStore(tmp_path / "blobs"))
    app.close()


def test_tickets_get_consecutive_numbers_and_results_carry_the_log_position(
    service: CommandService,
) -> None:
    first = service.open_ticket(OpenTicket(title="one"), SYSTEM)
    second = service.open_ticket(OpenTicket(title="two"), SYSTEM)
    assert (first.number, second.number) == (1, 2)
    assert (first.version, second.version) == (1, 1)
    assert second.position > first.position > 0


def test_a_command_that_changes_nothing_appends_no_event(service: CommandService) -> None:
    number = service.open_ticket(OpenTicket(title="same"), SYSTEM).number
    assert number is not None
    head = service.app.head()
    result = service.change_ticket(number, [RetitleTicket(title="same")], SYSTEM)
    assert result.version == 1
    assert service.app.head() == head


def test_a_stale_expected_version_is_refused_and_appends_nothing(
    service: CommandService,
) -> None:
    number = service.open_ticket(OpenTicket(title="t"), SYSTEM).number
    assert number is not None
    service.change_ticket(number, [RetitleTicket(title="t2")], SYSTEM, expected_version=1)
    head = service.app.head()
    with pytest.raises(VersionMismatchError):
        service.change_ticket(number, [RetitleTicket(title="t3")], SYSTEM, expected_version=1)
    assert service.app.head() == head


def test_a_rejected_command_in_a_batch_appends_none_of_the_batch(
    service: CommandService,
) -> None:
    number = service.open_ticket(OpenTicket(title="t"), SYSTEM).number
    assert number is not None
    head = service.app.head()
    with pytest.raises(UserNotFoundError):
        service.change_ticket(
            number, [RetitleTicket(title="new"), AssignUser(user_id=uuid.uuid4())], SYSTEM
        )
    assert service.app.head() == head
    assert service.ticket_events(number)[-1].title == "t"


def test_unknown_ticket_numbers_are_not_found(service: CommandService) -> None:
    with pytest.raises(TicketNotFoundError):
        service.change_ticket(99, [ChangeTicketStatus(status="Open")], SYSTEM)
    with pytest.raises(TicketNotFoundError):
        service.ticket_events(99)


def test_the_blob_store_keeps_bytes_once_by_hash_and_refuses_oversized_uploads(
    tmp_path: Path,
) -> None:
    import io

    blobs = LocalBlobStore(tmp_path)
    sha, size = blobs.put(io.BytesIO(b"hello"), limit=10)
    again, _ = blobs.put(io.BytesIO(b"hello"), limit=10)
    assert sha == again
    assert size == 5
    assert blobs.path(sha).read_bytes() == b"hello"
    with pytest.raises(AttachmentTooLargeError):
        blobs.put(io.BytesIO(b"x" * 11), limit=10)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".upload-")]


def test_an_aggregates_stream_is_read_up_to_a_version_or_a_moment(
    service: CommandService,
) -> None:
    # Given a ticket retitled twice (versions 1, 2 and 3)
    opened = service.open_ticket(OpenTicket(title="one"), SYSTEM)
    assert opened.number is not None
    service.change_ticket(opened.number, [RetitleTicket(title="two")], SYSTEM)
    service.change_ticket(opened.number, [RetitleTicket(title="three")], SYSTEM)
    whole = service.stream(opened.id)

    # When its stream is read up to version 2, up to the moment of version 1, and both
    by_version = service.stream(opened.id, version=2)
    by_moment = service.stream(opened.id, until=whole[0].timestamp)
    both = service.stream(opened.id, until=whole[2].timestamp, version=1)

    # Then each holds the events of the stream up to that point, in order
    assert [e.originator_version for e in whole] == [1, 2, 3]
    assert [e.originator_version for e in by_version] == [1, 2]
    assert [e.originator_version for e in by_moment] == [1]
    assert [e.originator_version for e in both] == [1]
    assert service.stream(uuid.uuid4()) == []
