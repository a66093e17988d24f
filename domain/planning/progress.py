"""A task's progress: planned work and points, percent complete and actual dates, set by hand
or following the time logged on it.

`TaskProgress` is part of the `Task` aggregate (`domain.task`): its methods check the rules
and record the events, whose classes and topics `Task` defines over the appliers here.
"""

from __future__ import annotations

from datetime import date

from domain.errors import InvalidValueError
from domain.planning.dates import check_day, iso_day
from domain.values import Actor, State
from domain.work_item import WorkItem


def check_amount(field: str, value: float | None) -> None:
    if value is not None and value < 0:
        raise InvalidValueError(field, f"{field} must not be negative")


class TaskProgress(WorkItem):
    """Work, points, percent complete and actual dates."""

    work_hours: float | None
    points: float | None
    percent_complete: int
    percent_by_hand: bool
    actual_start: str | None
    actual_finish: str | None
    actuals_by_hand: bool

    def estimate_work(self, work_hours: float | None, actor: Actor, correlation_id: str) -> None:
        check_amount("work_hours", work_hours)
        if work_hours != self.work_hours:
            self._work_estimated(
                work_hours=work_hours, actor=actor.ref, correlation_id=correlation_id
            )
            self.follow_time(actor, correlation_id)  # Percent complete is logged / planned.

    def _work_estimated(self, work_hours: float | None, actor: str, correlation_id: str) -> None:
        self.work_hours = work_hours

    def estimate_points(self, points: float | None, actor: Actor, correlation_id: str) -> None:
        check_amount("points", points)
        if points != self.points:
            self._points_estimated(points=points, actor=actor.ref, correlation_id=correlation_id)

    def _points_estimated(self, points: float | None, actor: str, correlation_id: str) -> None:
        self.points = points

    def set_progress(self, percent: int, actor: Actor, correlation_id: str) -> None:
        """Percent complete, set by hand (0 to 100)."""
        if not 0 <= percent <= 100:
            raise InvalidValueError("percent_complete", "percent_complete is 0 to 100")
        if percent != self.percent_complete or not self.percent_by_hand:
            self._progress_set(
                percent_complete=percent,
                by_hand=True,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    def _progress_set(
        self, percent_complete: int, by_hand: bool, actor: str, correlation_id: str
    ) -> None:
        self.percent_complete = percent_complete
        self.percent_by_hand = by_hand

    def record_actuals(
        self,
        actual_start: date | None,
        actual_finish: date | None,
        actor: Actor,
        correlation_id: str,
        *,
        by_hand: bool = True,
    ) -> None:
        """Actual dates: set by hand, or following the timesheets (until set by hand)."""
        check_day("actual_start", actual_start)
        check_day("actual_finish", actual_finish)
        if actual_start and actual_finish and actual_finish < actual_start:
            raise InvalidValueError("actual_finish", "actual_finish must not be before its start")
        if actual_finish and not actual_start:
            raise InvalidValueError("actual_start", "a task that finished has started")
        new = (iso_day(actual_start), iso_day(actual_finish), by_hand or self.actuals_by_hand)
        if new != (self.actual_start, self.actual_finish, self.actuals_by_hand):
            self._actuals_recorded(
                actual_start=new[0],
                actual_finish=new[1],
                by_hand=by_hand,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    # `by_hand` came later: events stored without it were recorded before anything but a
    # person set actual dates (and carry the default).
    def _actuals_recorded(
        self,
        actual_start: str | None,
        actual_finish: str | None,
        actor: str,
        correlation_id: str,
        by_hand: bool = True,
    ) -> None:
        self.actual_start = actual_start
        self.actual_finish = actual_finish
        self.actuals_by_hand = self.actuals_by_hand or by_hand

    def follow_time(self, actor: Actor, correlation_id: str) -> None:
        """What the timesheets say, where no one has said otherwise: percent complete is
        the logged time over the planned work, and the actual dates are the first and (once
        the task is finished) the last day time was logged."""
        if not self.percent_by_hand and self.work_hours:
            share = max(0, self.logged_minutes) / 60 / self.work_hours
            percent = min(100, round(share * 100))
            if percent != self.percent_complete:
                self._progress_set(
                    percent_complete=percent,
                    by_hand=False,
                    actor=actor.ref,
                    correlation_id=correlation_id,
                )
        if not self.actuals_by_hand and not self.logged:
            self.record_actuals(None, None, actor, correlation_id, by_hand=False)
        elif not self.actuals_by_hand:
            days = sorted(day for day, _ in self.logged.values())
            finish = days[-1] if self.state is State.FINISHED else None
            first = date.fromisoformat(days[0])
            last = date.fromisoformat(finish) if finish else None
            self.record_actuals(
                first, max(last, first) if last else None, actor, correlation_id, by_hand=False
            )
