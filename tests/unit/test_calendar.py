"""The working-day calendar's month: every day of it, Monday to Friday working days."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from domain.planning.calendar import is_working_day, month_days


@pytest.mark.parametrize(
    ("day", "count", "last"),
    [
        (date(2026, 12, 1), 31, date(2026, 12, 31)),
        (date(2026, 11, 17), 30, date(2026, 11, 30)),
        (date(2028, 2, 29), 29, date(2028, 2, 29)),
        (date(2027, 2, 10), 28, date(2027, 2, 28)),
    ],
)
def test_a_month_has_every_day_from_the_first_to_the_last(
    day: date, count: int, last: date
) -> None:
    days = month_days(day)
    assert (len(days), days[0], days[-1]) == (count, day.replace(day=1), last)
    assert all((b - a).days == 1 for a, b in itertools.pairwise(days))


def test_monday_to_friday_are_working_days_and_the_weekend_is_not() -> None:
    # 2026-12-07 is a Monday
    week = month_days(date(2026, 12, 1))[6:13]
    assert [day.strftime("%a") for day in week] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert [is_working_day(day) for day in week] == [True] * 5 + [False] * 2
