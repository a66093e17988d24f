"""A recurring task: the template of a series (an RFC 5545 rule, `domain.recurrence`) and
the occurrences created from it, each once, on its date.

`RecurringTask` is part of the `Task` aggregate (`domain.task`): its methods check the rules
and record the events, whose classes and topics `Task` defines over the appliers here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.errors import InvalidValueError
from domain.recurrence import Recurrence
from domain.values import Actor
from domain.work_item import WorkItem


class RecurringTask(WorkItem):
    """The series this task is the template of, or the series it is an occurrence of."""

    start: str | None
    series_number: int | None
    recurrence: dict[str, Any] | None
    recurrence_from: str | None
    last_occurrence: str | None

    def set_recurrence(
        self, rule: Recurrence, effective_from: date, actor: Actor, correlation_id: str
    ) -> None:
        """Make this task the template of a series, or change its rule. Either way the rule
        applies from `effective_from` (the day it is set: occurrences are never created
        for days before it). The template is the occurrence of its own start day."""
        if self.series_number is not None:
            raise InvalidValueError(
                "recurrence", f"#{self.number} is an occurrence of #{self.series_number}"
            )
        if rule.as_dict() != self.recurrence:
            self._recurrence_set(
                rule=rule.as_dict(),
                effective_from=effective_from.isoformat(),
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    # `effective_from` came later: events stored without it took effect from the rule's start.
    def _recurrence_set(
        self,
        rule: dict[str, Any],
        actor: str,
        correlation_id: str,
        effective_from: str | None = None,
    ) -> None:
        self.recurrence = rule
        self.recurrence_from = effective_from or rule["starts"]

    def stop_recurrence(self, actor: Actor, correlation_id: str) -> None:
        if self.recurrence is not None:
            self._recurrence_stopped(actor=actor.ref, correlation_id=correlation_id)

    def _recurrence_stopped(self, actor: str, correlation_id: str) -> None:
        self.recurrence = None

    def first_open_day(self) -> date | None:
        """The first day an occurrence may still be created for (None: the series has
        stopped): after the template's own start and the last occurrence, and not before
        the rule took effect."""
        if self.recurrence is None or self.recurrence_from is None:
            return None
        candidates = [date.fromisoformat(self.recurrence_from)]
        for day in (self.start, self.last_occurrence):
            if day is not None:
                candidates.append(date.fromordinal(date.fromisoformat(day).toordinal() + 1))
        return max(candidates)

    def record_occurrence(
        self, occurrence_date: date, number: int, actor: Actor, correlation_id: str
    ) -> bool:
        """Record that the occurrence of `occurrence_date` exists as item `number`; False
        (and nothing recorded) if that day is no longer open (see `first_open_day`)."""
        first = self.first_open_day()
        if first is None or occurrence_date < first:
            return False
        self._occurrence_created(
            occurrence_date=occurrence_date.isoformat(),
            number=number,
            actor=actor.ref,
            correlation_id=correlation_id,
        )
        return True

    def _occurrence_created(
        self, occurrence_date: str, number: int, actor: str, correlation_id: str
    ) -> None:
        self.last_occurrence = occurrence_date
