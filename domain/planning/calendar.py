"""The working-day calendar: Monday to Friday are working days, there are no holidays.

Dates become working-day indexes before any arithmetic, so a weekend can never be a start or
a finish: a start on a weekend moves to the Monday after, a finish back to the Friday.
"""

from __future__ import annotations

from datetime import date, timedelta


def is_working_day(day: date) -> bool:
    return day.weekday() < 5


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the Monday after it."""
    return day if day.weekday() < 5 else day + timedelta(days=7 - day.weekday())


def previous_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the Friday before it."""
    return day if day.weekday() < 5 else day - timedelta(days=day.weekday() - 4)


def add_working_days(day: date, n: int) -> date:
    """The working day `n` working days after `day` (before it when `n` is negative).

    A weekend `day` first moves to the Monday after it, so Saturday + 0 is Monday and
    Saturday - 1 is Friday (like numpy's busday_offset with roll="forward").
    """
    return working_day_at(working_day_index(day) + n)


def working_days_between(a: date, b: date) -> int:
    """The working days in [a, b), negated when b is before a (like numpy's busday_count).

    Always `add_working_days(a, working_days_between(a, b)) == next_working_day(b)`.
    """
    return working_day_index(b) - working_day_index(a)


def working_day_index(day: date) -> int:
    """How many working days come before `day`; a weekend shares the next Monday's index."""
    weeks, weekday = divmod(day.toordinal() - 1, 7)  # ordinal 1 (0001-01-01) is a Monday
    return weeks * 5 + min(weekday, 5)


def working_day_at(index: int) -> date:
    """The working day whose `working_day_index` is `index`."""
    weeks, weekday = divmod(index, 5)
    return date.fromordinal(weeks * 7 + weekday + 1)


def month_days(day: date) -> list[date]:
    """Every day of `day`'s month, from the 1st to the last."""
    first = day.replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    return [first + timedelta(days=n) for n in range((following - first).days)]
