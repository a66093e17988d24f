"""A user's timers: one per item they are timing, running or paused.

By default a user runs one timer at a time: starting (or resuming) another pauses the
running one. An install may allow several (`allow_several`). Stopping a timer ends it and
hands its time to a timesheet entry (saved in the same write).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, NotFoundError
from domain.values import Actor

TIMERS_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/timers")


def timers_id(user_id: UUID) -> UUID:
    return uuid5(TIMERS_NAMESPACE, str(user_id))


class TimerNotFoundError(NotFoundError):
    """Raised when the user has no timer on the item."""

    def __init__(self, number: int) -> None:
        super().__init__(f"you have no timer on #{number}")


class TimerStateError(ConflictError):
    """Raised when a timer is not in a state that allows the change."""

    def __init__(self, number: int, doing: str, state: str) -> None:
        super().__init__(f"cannot {doing} the timer on #{number}: it is {state}")


class Timers(Aggregate):
    """The timers of one staff user (id derived from the user's)."""

    TOPIC = "ledgerdesk:Timers"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Started: ClassVar[type[Aggregate.Event]]
        Paused: ClassVar[type[Aggregate.Event]]
        Resumed: ClassVar[type[Aggregate.Event]]
        Stopped: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(user_id: str) -> UUID:
        return timers_id(UUID(user_id))

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Timers.Created"

    @event("Opened", topic="ledgerdesk:Timers.Opened")
    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        # item number (as text) -> {state, since (ISO, while running), seconds (before)}
        self.timers: dict[str, dict[str, Any]] = {}

    def _timer(self, number: int) -> dict[str, Any]:
        timer = self.timers.get(str(number))
        if timer is None:
            raise TimerNotFoundError(number)
        return timer

    def running(self) -> list[int]:
        return sorted(int(n) for n, t in self.timers.items() if t["state"] == "running")

    def seconds(self, number: int, now: datetime) -> int:
        """The time on a timer so far."""
        timer = self._timer(number)
        seconds = int(timer["seconds"])
        if timer["state"] == "running":
            seconds += int((now - datetime.fromisoformat(timer["since"])).total_seconds())
        return max(seconds, 0)

    def _pause_others(
        self, number: int, now: datetime, allow_several: bool, actor: Actor, correlation_id: str
    ) -> None:
        if allow_several:
            return
        for other in self.running():
            if other != number:
                self.pause(other, now, actor, correlation_id)

    def start(
        self, number: int, now: datetime, allow_several: bool, actor: Actor, correlation_id: str
    ) -> None:
        """Start timing item `number` (resume it, if it is paused)."""
        timer = self.timers.get(str(number))
        if timer is not None:
            if timer["state"] == "paused":
                self.resume(number, now, allow_several, actor, correlation_id)
                return
            raise TimerStateError(number, "start", "running")
        self._pause_others(number, now, allow_several, actor, correlation_id)
        self._started(
            item_number=number, at=now.isoformat(), actor=actor.ref, correlation_id=correlation_id
        )

    @event("Started", topic="ledgerdesk:Timers.Started")
    def _started(self, item_number: int, at: str, actor: str, correlation_id: str) -> None:
        self.timers[str(item_number)] = {"state": "running", "since": at, "seconds": 0}

    def pause(self, number: int, now: datetime, actor: Actor, correlation_id: str) -> None:
        timer = self._timer(number)
        if timer["state"] != "running":
            raise TimerStateError(number, "pause", timer["state"])
        self._paused(
            item_number=number,
            at=now.isoformat(),
            seconds=self.seconds(number, now),
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("Paused", topic="ledgerdesk:Timers.Paused")
    def _paused(
        self, item_number: int, at: str, seconds: int, actor: str, correlation_id: str
    ) -> None:
        self.timers[str(item_number)] = {"state": "paused", "since": None, "seconds": seconds}

    def resume(
        self, number: int, now: datetime, allow_several: bool, actor: Actor, correlation_id: str
    ) -> None:
        timer = self._timer(number)
        if timer["state"] != "paused":
            raise TimerStateError(number, "resume", timer["state"])
        self._pause_others(number, now, allow_several, actor, correlation_id)
        self._resumed(
            item_number=number, at=now.isoformat(), actor=actor.ref, correlation_id=correlation_id
        )

    @event("Resumed", topic="ledgerdesk:Timers.Resumed")
    def _resumed(self, item_number: int, at: str, actor: str, correlation_id: str) -> None:
        self.timers[str(item_number)]["state"] = "running"
        self.timers[str(item_number)]["since"] = at

    def stop(
        self, number: int, now: datetime, entry_id: UUID | None, actor: Actor, correlation_id: str
    ) -> int:
        """End the timer; returns its seconds. `entry_id` names the timesheet entry its time
        went to (None when it was too short to log)."""
        seconds = self.seconds(number, now)
        self._stopped(
            item_number=number,
            at=now.isoformat(),
            seconds=seconds,
            entry_id=str(entry_id) if entry_id else None,
            actor=actor.ref,
            correlation_id=correlation_id,
        )
        return seconds

    @event("Stopped", topic="ledgerdesk:Timers.Stopped")
    def _stopped(
        self,
        item_number: int,
        at: str,
        seconds: int,
        entry_id: str | None,
        actor: str,
        correlation_id: str,
    ) -> None:
        del self.timers[str(item_number)]
