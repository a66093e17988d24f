"""Value objects shared by the aggregates: actors, priorities, lifecycle statuses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from domain.errors import (
    InvalidEmailError,
    InvalidValueError,
    UnknownPriorityError,
    UnknownStatusError,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def utc_text(moment: datetime) -> str:
    """One fixed-width UTC form of an instant, so times sort as text on every backend."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_name(name: str, field: str = "name") -> str:
    """A name as the model keeps it: trimmed, never empty."""
    name = name.strip()
    if not name:
        raise InvalidValueError(field, f"{field} must not be empty")
    return name


def normalise_email(value: str, field: str = "email") -> str:
    """An email address in the one form the model compares: trimmed, lower case."""
    email = value.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidEmailError(field, value)
    return email


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, a customer, the system, an import..."""

    kind: str
    ident: str

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.ident}"

    @classmethod
    def user(cls, user_id: UUID) -> Actor:
        return cls("user", str(user_id))

    @classmethod
    def customer(cls, email: str) -> Actor:
        return cls("customer", email)

    @classmethod
    def visitor(cls, email: str) -> Actor:
        """An anonymous customer of a chat: the address they gave, not confirmed."""
        return cls("visitor", email.lower())

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls("system", name)

    @classmethod
    def parse(cls, ref: str) -> Actor:
        kind, _, ident = ref.partition(":")
        return cls(kind, ident)


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @classmethod
    def parse(cls, value: str) -> Priority:
        try:
            return cls(value)
        except ValueError:
            raise UnknownPriorityError(value) from None


class State(StrEnum):
    """The three states every lifecycle status maps to."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


class Channel(StrEnum):
    """How an item arrived."""

    API = "api"
    EMAIL = "email"
    PORTAL = "portal"
    WEBFORM = "webform"
    CHAT = "chat"
    IMPORT = "import"


@dataclass(frozen=True)
class Status:
    name: str
    state: State


@dataclass(frozen=True)
class Lifecycle:
    """An ordered set of statuses, each mapped to a state, with the default status of each
    state (`defaults`; a state left out: its first status).

    Events record the status *and* its state, so a later change to the
    configuration never rewrites what a past event meant.
    """

    statuses: tuple[Status, ...]
    defaults: Mapping[State, str] = field(default_factory=dict)

    @property
    def initial(self) -> Status:
        """Where a new item starts: the default not-started status."""
        return self.default(State.NOT_STARTED)

    def default(self, state: State) -> Status:
        """The status an item takes when it must reach `state` (closing, reopening, starting)
        without a status named."""
        name = self.defaults.get(state)
        if name is not None:
            return self.status(name)
        return next(s for s in self.statuses if s.state is state)

    def status(self, name: str) -> Status:
        for status in self.statuses:
            if status.name.casefold() == name.casefold():
                return status
        raise UnknownStatusError(name, [s.name for s in self.statuses])


DEFAULT_TICKET_LIFECYCLE = Lifecycle(
    (
        Status("New", State.NOT_STARTED),
        Status("Open", State.IN_PROGRESS),
        Status("Waiting on customer", State.IN_PROGRESS),
        Status("Resolved", State.FINISHED),
        Status("Closed", State.FINISHED),
    ),
    {State.NOT_STARTED: "New", State.IN_PROGRESS: "Open", State.FINISHED: "Closed"},
)
