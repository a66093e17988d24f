"""Reading an MSPDI file's calendars: each one's working weekdays and its exceptions.

- **Weekdays.** `WeekDays/WeekDay` with `DayType` 1 (Sunday) to 7 (Saturday) and
  `DayWorking`. A derived calendar (a resource's: `BaseCalendarUID`) inherits the days it
  does not give from its base calendar; a base calendar, MS Project's default (Monday to
  Friday). The `WorkWeeks` of Project 2007+ (other working weeks for a period) are not read.
- **Exceptions, Project 2007+** (`Exceptions/Exception`): a range of days from
  `TimePeriod`, or a recurring one (`Type` 2 to 7: yearly, monthly, weekly or every n days,
  with `Period`, `DaysOfWeek`, `Month`, `MonthDay`, `MonthItem`, `MonthPosition`), whose
  occurrences from `FromDate` to `ToDate` (and at most `Occurrences`) each become a day.
  A pattern this reader does not know (the n-th weekday or weekend day of a month) is left
  out, as MPXJ leaves out what it cannot read.
- **Exceptions, Project 2002 and 2003**: a `WeekDay` with `DayType` 0 and a `TimePeriod`.
  A Project 2007+ file may repeat its exceptions so; they are read only where a calendar
  has no `Exceptions` (as MS Project and MPXJ do).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count, islice
from xml.etree.ElementTree import Element

from commands.msproject.mspdi_format import Fields, MspdiError
from domain.msproject.plan import CalendarException, FileCalendar
from domain.planning.calendar import MAX_EXCEPTIONS, MONDAY_TO_FRIDAY

MAX_OCCURRENCES = 5000  # of one recurring exception (a daily one over thirteen years)
# Exceptions read of one calendar, in all (a range of days counts one, a recurring
# exception's occurrences each): as many as a project's calendar holds days (a file that
# repeats thousands of exceptions must not cost minutes to read).
MAX_EXCEPTION_DAYS = MAX_EXCEPTIONS
DAILY, WEEKLY = frozenset({1, 7}), 6
YEARLY_DAY, YEARLY_POSITION, MONTHLY_DAY, MONTHLY_POSITION = 2, 3, 4, 5
LAST = 4  # MonthPosition: 0 first ... 3 fourth, 4 last
POSITION_ITEMS = frozenset({0, 3, 4, 5, 6, 7, 8, 9})  # MonthItem: not 1 (weekday), 2 (weekend)
Picker = Callable[[int, int], date]  # which day of a month (year, month)


def weekday_of(day_type: int) -> int:
    """MSPDI's DayType (1 Sunday ... 7 Saturday) as a weekday (0 Monday ... 6 Sunday)."""
    return (day_type + 5) % 7


def day_type_of(weekday: int) -> int:
    return (weekday + 1) % 7 + 1


@dataclass
class _Calendar:
    uid: int
    name: str
    base_uid: int | None
    base: bool
    days: dict[int, bool] = field(default_factory=dict)  # as the calendar gives them
    exceptions: list[CalendarException] = field(default_factory=list)
    cut: bool = False  # more exception days in the file than were read


def read_calendars(project: Element) -> tuple[FileCalendar, ...]:
    read = [
        _calendar(element, number)
        for number, element in enumerate(project.iterfind("Calendars/Calendar"), 1)
    ]
    by_uid = {found.uid: found for found in read}
    return tuple(
        FileCalendar(
            uid=found.uid,
            name=found.name,
            working_weekdays=_weekdays(found, by_uid, set()),
            exceptions=tuple(found.exceptions),
            base_uid=found.base_uid,
            base=found.base,
            exceptions_cut=found.cut,
        )
        for found in read
    )


def _weekdays(found: _Calendar, by_uid: dict[int, _Calendar], seen: set[int]) -> frozenset[int]:
    base = by_uid.get(found.base_uid) if found.base_uid is not None else None
    if base is None or base.uid in seen:
        inherited = MONDAY_TO_FRIDAY
    else:
        inherited = _weekdays(base, by_uid, seen | {found.uid})
    return frozenset(day for day in range(7) if found.days.get(day, day in inherited))


def _calendar(element: Element, number: int) -> _Calendar:
    uid = Fields(element, f"calendar {number} of the file").integer("UID")
    if uid is None:
        raise MspdiError(f"calendar {number} of the file has no <UID>")
    fields = Fields(element, f"calendar UID {uid}")
    base_uid = fields.integer("BaseCalendarUID")
    base_uid = None if base_uid is None or base_uid < 0 else base_uid
    found = _Calendar(
        uid, fields.string("Name"), base_uid, fields.flag("IsBaseCalendar", base_uid is None)
    )
    legacy: list[CalendarException] = []
    for day in element.iterfind("WeekDays/WeekDay"):
        day_fields = Fields(day, fields.where)
        day_type = day_fields.integer("DayType")
        working = day_fields.boolean("DayWorking")
        if working is None:
            working = day.find("WorkingTimes/WorkingTime") is not None
        if day_type == 0:
            legacy += _range(day_fields, working, "")
        elif day_type is not None and 1 <= day_type <= 7:
            found.days[weekday_of(day_type)] = working
        elif day_type is not None:
            raise MspdiError(f"{fields.where}: <DayType> {day_type} is not 0 to 7")
    for exception in element.iterfind("Exceptions/Exception"):
        room = MAX_EXCEPTION_DAYS - len(found.exceptions)
        if room <= 0:  # (This one, at least, is left.)
            found.cut = True
            break
        read = _exception(Fields(exception, fields.where), room + 1)  # (one more: is any left?)
        found.cut = len(read) > room
        found.exceptions += read[:room]
    if not found.exceptions:
        found.exceptions = legacy
    return found


def _range(fields: Fields, working: bool, name: str) -> list[CalendarException]:
    start = fields.date_time("TimePeriod/FromDate")
    end = fields.date_time("TimePeriod/ToDate") or start
    if end is None:
        return []  # (Some tools write the days as FromTime and ToTime: MS Project ignores it.)
    first = (start or end).date()
    return [CalendarException(first, max(first, end.date()), working, name)]


def _exception(fields: Fields, room: int = MAX_OCCURRENCES) -> list[CalendarException]:
    working = fields.flag("DayWorking")
    name = fields.string("Name")
    kind = fields.integer("Type")
    period = max(fields.integer("Period") or 1, 1)
    recurring = kind in (WEEKLY, YEARLY_DAY, YEARLY_POSITION, MONTHLY_DAY, MONTHLY_POSITION) or (
        kind in DAILY and period > 1
    )
    plain = _range(fields, working, name)
    if not recurring or not plain:
        return plain
    first = plain[0].starts
    last = fields.date_time("TimePeriod/ToDate")
    days = _pattern(fields, kind, period, first)
    if days is None:
        return []  # A pattern this reader does not know: left out, as MPXJ does.
    limit = fields.integer("Occurrences") or (MAX_OCCURRENCES if last is not None else 1)
    kept = []
    try:
        for day in islice(days, min(limit, MAX_OCCURRENCES, room)):
            if last is not None and day > last.date():
                break
            kept.append(CalendarException(day, day, working, name))
    except (ValueError, OverflowError):
        pass  # The pattern runs past the year 9999: its days end there.
    return kept


def _pattern(fields: Fields, kind: int | None, period: int, first: date) -> Iterator[date] | None:
    """The days of a recurring exception from `first`, in order (without end)."""
    if kind in DAILY:
        return (first + timedelta(days=step) for step in count(0, period))
    if kind == WEEKLY:
        mask = fields.integer("DaysOfWeek") or 0
        return _weekly(first, mask, period) if mask & 0x7F else None
    month = fields.integer("Month")
    day = fields.integer("MonthDay")
    item, position = fields.integer("MonthItem"), fields.integer("MonthPosition")
    if kind in (YEARLY_DAY, MONTHLY_DAY):
        if day is None or not 1 <= day <= 31:
            return None
        pick = _day_picker(day)
    elif item in POSITION_ITEMS and position is not None and 0 <= position <= LAST:
        pick = _position_picker(item, position)
    else:
        return None
    if kind in (MONTHLY_DAY, MONTHLY_POSITION):
        return _monthly(first, period, pick)
    if month is None or not 0 <= month <= 11:
        return None
    return (found for year in count(first.year) if (found := pick(year, month + 1)) >= first)


def _weekly(first: date, mask: int, period: int) -> Iterator[date]:
    week = first - timedelta(days=(first.weekday() + 1) % 7)  # its Sunday
    for step in count(0, period):
        for offset in range(7):
            day = week + timedelta(weeks=step, days=offset)
            if day >= first and mask & (1 << ((day.weekday() + 1) % 7)):
                yield day


def _monthly(first: date, period: int, pick: Picker) -> Iterator[date]:
    for step in count(0, period):
        year, month = divmod(first.year * 12 + first.month - 1 + step, 12)
        day = pick(year, month + 1)
        if day >= first:
            yield day


def _day_picker(day: int) -> Picker:
    """The `day` of the month (a month without it: its last day)."""

    def pick(year: int, month: int) -> date:
        return date(year, month, min(day, calendar.monthrange(year, month)[1]))

    return pick


def _position_picker(item: int, position: int) -> Picker:
    """MonthItem (0 a day, 3 Sunday ... 9 Saturday) at MonthPosition (0 first ... 3 fourth,
    4 last)."""
    weekday = (item + 3) % 7

    def pick(year: int, month: int) -> date:
        length = calendar.monthrange(year, month)[1]
        if item == 0:
            return date(year, month, length if position == LAST else position + 1)
        if position == LAST:
            last = date(year, month, length)
            return last - timedelta(days=(last.weekday() - weekday) % 7)
        start = date(year, month, 1)
        return start + timedelta(days=(weekday - start.weekday()) % 7, weeks=position)

    return pick
