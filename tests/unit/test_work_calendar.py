"""A project's own working days (`WorkCalendar`): the same arithmetic as the standard
calendar's closed forms, holidays and extra working days counted in, the checks, and the
scheduler and recurrences planning by it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from commands.recurrence import occurrences
from domain.errors import InvalidValueError
from domain.planning import calendar as standard
from domain.planning.calendar import MAX_EXCEPTIONS, STANDARD, WorkCalendar
from domain.planning.constraints import Constraint, ConstraintKind
from domain.planning.dates import plan_dates
from domain.planning.links import Link, LinkKind
from domain.planning.schedule import TaskPlan, critical_path, schedule
from domain.recurrence import Frequency, Recurrence

MON = date(2026, 12, 21)
# Monday to Thursday; Wednesday 23rd off; Saturday 26th worked.
SHORT = WorkCalendar.of(range(4), [date(2026, 12, 23)], [date(2026, 12, 26)])


class Counted(WorkCalendar):
    """The standard week, counted the way a calendar of a project's own is."""

    @property
    def standard(self) -> bool:
        return False


def test_counting_a_week_by_its_pattern_agrees_with_the_standard_closed_forms() -> None:
    counted = Counted()
    for n in range(-10, 800):
        day = date(2026, 1, 1) + timedelta(days=n)
        assert counted.index(day) == standard.working_day_index(day), day
        assert counted.is_working(day) == standard.is_working_day(day), day
        assert counted.next_working(day) == standard.next_working_day(day), day
        assert counted.previous_working(day) == standard.previous_working_day(day), day
        assert counted.add(day, n % 13 - 6) == standard.add_working_days(day, n % 13 - 6), day
        assert counted.between(MON, day) == standard.working_days_between(MON, day), day
    assert counted.at(0) == STANDARD.at(0) == date(1, 1, 1)
    assert counted.at(STANDARD.index(date.max)) == date(9999, 12, 31)


def test_holidays_and_extra_days_count_in_the_arithmetic() -> None:
    days = [MON + timedelta(days=n) for n in range(10)]
    working = [d for d in days if SHORT.is_working(d)]
    assert working == [date(2026, 12, d) for d in (21, 22, 24, 26, 28, 29, 30)]
    for a in days:
        for b in days:
            assert SHORT.between(a, b) == (
                len([d for d in working if a <= d < b]) - len([d for d in working if b <= d < a])
            )
        assert SHORT.next_working(a) == min(d for d in working if d >= a)
    assert SHORT.add(MON, 3) == date(2026, 12, 26)
    assert SHORT.add(date(2026, 12, 23), 0) == date(2026, 12, 24)  # a day off moves forward
    assert SHORT.add(date(2026, 12, 28), -2) == date(2026, 12, 24)
    assert SHORT.previous_working(date(2026, 12, 27)) == date(2026, 12, 26)
    assert [SHORT.at(SHORT.index(d)) for d in working] == working
    with pytest.raises(ValueError, match="outside the calendar's dates"):
        SHORT.at(-1)


def test_a_calendar_is_checked_and_kept_as_names_and_days() -> None:
    assert SHORT.as_dict() == {
        "working_weekdays": ["monday", "tuesday", "wednesday", "thursday"],
        "holidays": ["2026-12-23"],
        "extra_days": ["2026-12-26"],
    }
    assert WorkCalendar.from_dict(SHORT.as_dict()) == SHORT
    assert WorkCalendar.from_dict(None) is STANDARD
    assert WorkCalendar.of(range(5)).standard
    assert not WorkCalendar.of(range(5), [MON]).standard
    for weekdays, off, extra, said in [
        ((), (), (), "at least one working weekday"),
        ((7,), (), (), "at least one working weekday"),
        (range(5), [date(2026, 12, 26)], (), "2026-12-26 is a saturday, not a working weekday"),
        (range(5), (), [MON], "2026-12-21 is a monday, already a working weekday"),
    ]:
        with pytest.raises(InvalidValueError, match=said):
            WorkCalendar.of(weekdays, off, extra)
    many = [date(2000, 1, 3) + timedelta(days=7 * n) for n in range(MAX_EXCEPTIONS + 1)]
    with pytest.raises(InvalidValueError, match="together hold at most 20,000 days"):
        WorkCalendar.of(range(5), many)


def test_plans_and_schedules_count_the_calendars_days() -> None:
    # Three days from Monday 21st: 21st, 22nd, 24th; a start on the 23rd moves to the 24th
    assert plan_dates(MON, None, 3, False, SHORT) == (MON, date(2026, 12, 24), 3)
    assert plan_dates(date(2026, 12, 23), None, 1, False, SHORT)[0] == date(2026, 12, 24)
    assert plan_dates(MON, date(2026, 12, 28), None, False, SHORT)[2] == 5
    plans = {
        1: TaskPlan(1, MON, 3),
        2: TaskPlan(2, MON, 2),
        3: TaskPlan(
            3, MON, 1, Constraint(ConstraintKind.FINISH_NO_EARLIER_THAN, date(2026, 12, 27))
        ),
    }
    links = [Link(1, 2, LinkKind.FINISH_TO_START, 1)]
    done = schedule(plans, links, calendar=SHORT)
    # After the 24th, one day of lag (the 26th): the 28th and 29th
    assert (done[2].start, done[2].finish) == (date(2026, 12, 28), date(2026, 12, 29))
    # Finishing no earlier than Sunday 27th: on the working day before, Saturday 26th
    assert done[3].start == done[3].finish == date(2026, 12, 26)
    path = critical_path(plans, links, SHORT)
    assert path.finish == date(2026, 12, 29)
    assert path.slack == {1: 0, 2: 0, 3: 2}


def test_recurrences_skip_the_calendars_days_off() -> None:
    daily = Recurrence(frequency=Frequency.DAILY, starts=MON)
    found = occurrences(daily, MON, date(2026, 12, 28), SHORT)
    assert found == [date(2026, 12, d) for d in (21, 22, 24, 26, 28)]
    assert occurrences(daily, MON, date(2026, 12, 28)) == [
        date(2026, 12, d) for d in (21, 22, 23, 24, 25, 28)
    ]


def test_a_finish_on_a_day_off_ends_on_the_working_day_before() -> None:
    # Thursday 24th and Friday 25th off (a Monday-to-Friday week besides)
    christmas = WorkCalendar.of(range(5), [date(2026, 12, 24), date(2026, 12, 25)])
    assert plan_dates(MON, date(2026, 12, 24), None, False, christmas) == (
        MON, date(2026, 12, 23), 3,
    )  # fmt: skip
    assert plan_dates(MON, date(2026, 12, 27), None, False, christmas)[1:] == (
        date(2026, 12, 23), 3,
    )  # fmt: skip
    # The standard week too: a Saturday finish is the Friday
    assert plan_dates(MON, date(2026, 12, 26), None, False) == (MON, date(2026, 12, 25), 5)
    with pytest.raises(InvalidValueError, match="2026-12-24 to 2026-12-27 holds no working day"):
        plan_dates(date(2026, 12, 24), date(2026, 12, 27), None, False, christmas)
    with pytest.raises(InvalidValueError, match="finish must not be before start"):
        plan_dates(date(2026, 12, 24), date(2026, 12, 23), None, False, christmas)
