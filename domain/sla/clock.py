"""An SLA target's clock: when a target falls due, when it warns, and where it stands.

A target (first response within 1 hour, say) is measured in business time from when its
clock started, less the pauses; it is met when the answer came within the target, and
breached when it came later or has not come by then. It warns once `warn_share` of the
target has passed without an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import InvalidValueError
from domain.sla.business_hours import BeyondHorizonError, BusinessHours, Pause


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True)
class Target:
    """`seconds` of business time in `hours`, warning after `warn_share` of them."""

    seconds: float
    hours: BusinessHours
    warn_share: float = 0.75

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise InvalidValueError("target", "a target must be a positive span of time")
        if not 0 < self.warn_share < 1:
            raise InvalidValueError("warn_share", "the warning share must be between 0 and 1")

    @property
    def span(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    @property
    def warn_after(self) -> timedelta:
        """The business time after which it warns, to the microsecond (as `warns` and
        `state` both count it)."""
        return timedelta(seconds=self.seconds * self.warn_share)

    def due(self, started: datetime, pauses: Sequence[Pause] = ()) -> datetime | None:
        """When the target falls due; None while an open pause stops the clock first (or
        when it would fall due more than ten years on)."""
        return self._after(started, self.span, pauses)

    def warns(self, started: datetime, pauses: Sequence[Pause] = ()) -> datetime | None:
        """When the warning is due; None as for `due`."""
        return self._after(started, self.warn_after, pauses)

    def _after(
        self, started: datetime, span: timedelta, pauses: Sequence[Pause]
    ) -> datetime | None:
        try:
            return self.hours.add(started, span, pauses)
        except BeyondHorizonError:
            return None

    def state(
        self,
        started: datetime,
        now: datetime,
        answered: datetime | None = None,
        pauses: Sequence[Pause] = (),
    ) -> SlaState:
        """Where the target stands at `now` (or, once `answered`, for good)."""
        until = answered if answered is not None else now
        used = self.hours.elapsed(started, until, pauses)
        if answered is not None:
            return SlaState.MET if used <= self.span else SlaState.BREACHED
        if used >= self.span:
            return SlaState.BREACHED
        if used >= self.warn_after:
            return SlaState.WARNING
        return SlaState.ON_TRACK
