"""Errors the write side raises beyond the domain's rules."""

from __future__ import annotations

from domain.errors import ConflictError, DomainError, NotFoundError

# The read side raises these too (an item the caller may not see is not found), so they live
# in the domain; the write side's modules import them from here as before.
from domain.errors import TaskNotFoundError as TaskNotFoundError
from domain.errors import TicketNotFoundError as TicketNotFoundError


class AttachmentNotFoundError(NotFoundError):
    """Raised when a ticket has no attachment with the given id."""

    def __init__(self, number: int, attachment_id: object) -> None:
        super().__init__(f"no attachment {attachment_id} on ticket #{number}")


class UserNotFoundError(NotFoundError):
    """Raised when no staff user has the given id or email."""

    def __init__(self, who: str) -> None:
        super().__init__(f"no user {who}")


class TeamNotFoundError(NotFoundError):
    """Raised when no team has the given id."""

    def __init__(self, team_id: object) -> None:
        super().__init__(f"no team {team_id}")


class VersionMismatchError(DomainError):
    """Raised when If-Match names a version the aggregate has moved past."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"version {expected} is stale; the current version is {actual}")
        self.actual = actual


class ConcurrentWriteError(ConflictError):
    """Raised when a write still conflicts after every retry."""

    def __init__(self) -> None:
        super().__init__("the item kept changing under this write; try again")


class AttachmentTooLargeError(DomainError):
    """Raised when an upload is larger than the install allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"attachment exceeds the limit of {limit} bytes")
        self.limit = limit


class InvalidTokenError(DomainError):
    """Raised when a bearer token is missing, unknown or malformed."""

    def __init__(self) -> None:
        super().__init__("the bearer token is not valid")
