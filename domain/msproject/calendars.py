"""A plan's project calendar as a project's calendar here (`WorkCalendar`): its working
weekdays; each day of a non-working exception on a working weekday a holiday, each day of a
working exception on another weekday an extra working day — the days from 1900 to 9000,
where plans live, and the first `MAX_EXCEPTIONS` of them. Working hours are not kept."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from heapq import merge
from itertools import islice

from domain.msproject.plan import FilePlan
from domain.msproject.warnings import PlanWarning
from domain.planning.calendar import MAX_EXCEPTIONS, MONDAY_TO_FRIDAY, STANDARD, WorkCalendar
from domain.planning.dates import EARLIEST, LATEST

ALL_WEEKDAYS = frozenset(range(7))


def plan_calendar(plan: FilePlan, warnings: list[PlanWarning]) -> WorkCalendar:
    """The project calendar as working weekdays, holidays and extra working days (only
    the days from 1900 to 9000, where plans live; the first `MAX_EXCEPTIONS` of them).

    Each day is looked at once however the exceptions overlap, and only while days are
    kept: a file cannot make this walk millions of days."""
    calendar = plan.calendar
    if calendar is None:
        return STANDARD
    weekdays = calendar.working_weekdays
    if not weekdays:
        warnings.append(
            PlanWarning(
                f"the project calendar {calendar.name!r} has no working weekday: here Monday"
                " to Friday, with its exceptions"
            )
        )
        weekdays = MONDAY_TO_FRIDAY
    if calendar.exceptions_cut:
        warnings.append(
            PlanWarning(
                f"the project calendar {calendar.name!r} has more exceptions than are read"
                f" ({MAX_EXCEPTIONS:,} days): the later ones are not kept"
            )
        )
    off = _union((e.starts, e.ends) for e in calendar.exceptions if not e.working)
    on = _union((e.starts, e.ends) for e in calendar.exceptions if e.working)
    days = merge(_days_in(off, weekdays, False), _days_in(on, ALL_WEEKDAYS - weekdays, True))
    kept = list(islice(days, MAX_EXCEPTIONS + 1))
    if len(kept) > MAX_EXCEPTIONS:
        last = kept.pop()[0]
        warnings.append(
            PlanWarning(
                f"the project calendar {calendar.name!r} has more than {MAX_EXCEPTIONS:,} days"
                f" of exceptions: those from {last} on are not kept"
            )
        )
    holidays = [day for day, working in kept if not working]
    return WorkCalendar.of(weekdays, holidays, [day for day, working in kept if working])


def _union(ranges: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Ranges of days (first, last) within 1900 to 9000, overlapping and adjacent ones
    joined, in order."""
    joined: list[tuple[date, date]] = []
    for first, last in sorted((max(a, EARLIEST), min(b, LATEST)) for a, b in ranges):
        if first > last:
            continue
        if joined and first <= joined[-1][1] + timedelta(days=1):
            joined[-1] = (joined[-1][0], max(joined[-1][1], last))
        else:
            joined.append((first, last))
    return joined


def _days_in(
    ranges: list[tuple[date, date]], weekdays: frozenset[int], working: bool
) -> Iterator[tuple[date, bool]]:
    """The days of `ranges` on `weekdays`, in order, each with `working`."""
    if not weekdays:
        return
    for first, last in ranges:
        day = first
        while day <= last:
            if day.weekday() in weekdays:
                yield day, working
            day += timedelta(days=1)
