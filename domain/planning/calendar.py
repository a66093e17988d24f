"""Working-day calendars. The standard one: Monday to Friday are working days, there are no
holidays (the functions below); a project may set its own (`WorkCalendar`: other working
weekdays, holidays, extra working days).

Dates become working-day indexes before any arithmetic, so a day off can never be a start or
a finish: a start on a weekend moves to the Monday after, a finish back to the Friday.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from domain.errors import InvalidValueError


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


# -- a project's own calendar ----------------------------------------------------------

MONDAY_TO_FRIDAY = frozenset(range(5))
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_EXCEPTIONS = 20_000
_FIRST, _LAST = date.min.toordinal(), date.max.toordinal()


@dataclass(frozen=True)
class WorkCalendar:
    """A project's working days: the weekdays it works (0 is Monday) and its exceptions —
    `holidays`, days off on a working weekday, and `extra_days`, days worked on a weekday
    it does not work. Both are sorted, without repeats (`WorkCalendar.of` checks them).

    The same arithmetic as the functions above, which are the standard calendar's (Monday to
    Friday, no exceptions): a day's index is the working days before it, so a day off shares
    the next working day's index. The standard calendar keeps its closed forms; another
    counts its weeks, then its exceptions by bisection.
    """

    weekdays: frozenset[int] = MONDAY_TO_FRIDAY
    holidays: tuple[date, ...] = ()
    extra_days: tuple[date, ...] = ()
    _before: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _standard: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Working weekdays before each weekday, and in a whole week (index 7).
        before = [0]
        for weekday in range(7):
            before.append(before[-1] + (weekday in self.weekdays))
        object.__setattr__(self, "_before", tuple(before))
        standard = self.weekdays == MONDAY_TO_FRIDAY and not self.holidays and not self.extra_days
        object.__setattr__(self, "_standard", standard)

    @classmethod
    def named(
        cls, weekdays: Iterable[str], holidays: Iterable[date] = (), extra_days: Iterable[date] = ()
    ) -> WorkCalendar:
        """`of`, with the weekdays by their English names (any case)."""
        numbers = []
        for name in weekdays:
            if name.lower() not in WEEKDAY_NAMES:
                raise InvalidValueError(
                    "working_weekdays", f"{name!r} is not a weekday: use {', '.join(WEEKDAY_NAMES)}"
                )
            numbers.append(WEEKDAY_NAMES.index(name.lower()))
        return cls.of(numbers, holidays, extra_days)

    @classmethod
    def of(
        cls, weekdays: Iterable[int], holidays: Iterable[date] = (), extra_days: Iterable[date] = ()
    ) -> WorkCalendar:
        """A checked calendar: at least one working weekday; a holiday on a working weekday,
        an extra day on another; no more than `MAX_EXCEPTIONS` exceptions."""
        days = frozenset(weekdays)
        if not days or not days <= set(range(7)):
            raise InvalidValueError(
                "working_weekdays", "name at least one working weekday, 0 (Monday) to 6"
            )
        off, extra = sorted(set(holidays)), sorted(set(extra_days))
        if len(off) + len(extra) > MAX_EXCEPTIONS:
            raise InvalidValueError(
                "extra_days" if len(extra) > MAX_EXCEPTIONS else "holidays",
                f"holidays and extra_days together hold at most {MAX_EXCEPTIONS:,} days",
            )
        for field_name, listed, working in (("holidays", off, True), ("extra_days", extra, False)):
            for day in listed:
                if (day.weekday() in days) != working:
                    state = "not a working weekday" if working else "already a working weekday"
                    raise InvalidValueError(
                        field_name, f"{day} is a {WEEKDAY_NAMES[day.weekday()]}, {state}"
                    )
        return cls(days, tuple(off), tuple(extra))

    @property
    def standard(self) -> bool:
        """Monday to Friday with no exceptions (whose arithmetic has closed forms)."""
        return self._standard

    def is_working(self, day: date) -> bool:
        if self.standard:
            return is_working_day(day)
        if day.weekday() in self.weekdays:
            return not _listed(self.holidays, day)
        return _listed(self.extra_days, day)

    def index(self, day: date) -> int:
        """How many working days come before `day` (from 0001-01-01)."""
        if self.standard:
            return working_day_index(day)
        weeks, weekday = divmod(day.toordinal() - 1, 7)
        return (
            weeks * self._before[7]
            + self._before[weekday]
            - bisect_left(self.holidays, day)
            + bisect_left(self.extra_days, day)
        )

    def at(self, index: int) -> date:
        """The working day whose `index` is `index` (ValueError outside the dates)."""
        if self.standard:
            return working_day_at(index)
        # The first day with more than `index` working days up to and including it.
        low, high = _FIRST, _LAST
        if index < 0 or self.index(date.max) + self.is_working(date.max) <= index:
            raise ValueError(f"working day {index} is outside the calendar's dates")
        while low < high:
            middle = (low + high) // 2
            day = date.fromordinal(middle)
            if self.index(day) + self.is_working(day) > index:
                high = middle
            else:
                low = middle + 1
        return date.fromordinal(low)

    def next_working(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        return day if self.is_working(day) else self.at(self.index(day))

    def previous_working(self, day: date) -> date:
        """`day` itself if it is a working day, else the last working day before it."""
        return day if self.is_working(day) else self.at(self.index(day) - 1)

    def add(self, day: date, n: int) -> date:
        """The working day `n` working days after `day` (a day off first moves forward)."""
        return self.at(self.index(day) + n)

    def between(self, a: date, b: date) -> int:
        """The working days in [a, b), negated when b is before a."""
        return self.index(b) - self.index(a)

    def as_dict(self) -> dict[str, Any]:
        """What `Project.CalendarSet` records and the API shows."""
        return {
            "working_weekdays": [WEEKDAY_NAMES[d] for d in sorted(self.weekdays)],
            "holidays": [d.isoformat() for d in self.holidays],
            "extra_days": [d.isoformat() for d in self.extra_days],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> WorkCalendar:
        """The calendar `as_dict` made (the standard one for none); the last few made are
        kept, so that a project's commands do not read its thousands of days each time."""
        if not data:
            return STANDARD
        return _from_names(
            tuple(data["working_weekdays"]), tuple(data["holidays"]), tuple(data["extra_days"])
        )


@lru_cache(maxsize=8)  # (one of 20,000 days holds about 2 MB)
def _from_names(
    weekdays: tuple[str, ...], holidays: tuple[str, ...], extra_days: tuple[str, ...]
) -> WorkCalendar:
    return WorkCalendar(
        frozenset(WEEKDAY_NAMES.index(d) for d in weekdays),
        tuple(date.fromisoformat(d) for d in holidays),
        tuple(date.fromisoformat(d) for d in extra_days),
    )


def _listed(days: tuple[date, ...], day: date) -> bool:
    at = bisect_left(days, day)
    return at < len(days) and days[at] == day


STANDARD = WorkCalendar()
