"""Business hours: the weekly opening hours of a service, in its time zone, less holidays,
and the arithmetic service levels need on them.

An opening is wall-clock time in the calendar's zone: "Monday 09:00-17:00" in
Europe/Paris is eight hours on every Monday, the Mondays after a change of clocks
included. A day whose clocks change keeps its wall-clock openings, so an opening that
spans the change is an hour shorter or longer (00:00-24:00 on the last Sunday of March
is 23 hours in Paris). A local time the clocks skip is read as the time that many minutes
after the last one before the skip (02:30 on that Sunday is 03:30 summer time); a local
time that happens twice is its first occurrence.

Every instant here is an aware datetime; answers are in UTC. The clock can also be
paused (while an item waits on its customer): business time does not pass during a
pause, and a pause with no end stops it until the pause is given one.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from domain.errors import InvalidValueError

CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# How far ahead the arithmetic looks for business time (ten years of days) before it gives
# up: a target longer than its calendar's openings allow in that time is refused.
HORIZON_DAYS = 3660
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MIDNIGHT = time(0, 0)
# "24:00": an opening that runs to the end of its day.
END_OF_DAY = "24:00"


class BeyondHorizonError(ValueError):
    """Raised when business time would run out further ahead than the arithmetic looks."""

    def __init__(self, zone: str, since: datetime) -> None:
        super().__init__(f"no end within {HORIZON_DAYS} days of {since} in {zone}")


@dataclass(frozen=True)
class Opening:
    """One span of opening hours on a weekday (0 is Monday), `start` to `end` local time;
    `end` None runs to the end of the day ("24:00")."""

    weekday: int
    start: time
    end: time | None

    def on(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """This opening on `day` (a `weekday` day), as UTC instants."""
        end = (
            datetime.combine(day + timedelta(days=1), MIDNIGHT)
            if self.end is None
            else datetime.combine(day, self.end)
        )
        return instant(datetime.combine(day, self.start), zone), instant(end, zone)

    def minutes(self) -> tuple[int, int]:
        end = 24 * 60 if self.end is None else self.end.hour * 60 + self.end.minute
        return self.start.hour * 60 + self.start.minute, end


def instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock time `wall` (naive) in `zone`: its first occurrence if
    the clocks show it twice; if they skip it, the moment they change (so a later wall time
    is never an earlier instant, and only times that never exist are dropped)."""
    at = wall.replace(tzinfo=zone)
    found = at.astimezone(UTC)
    if found.astimezone(zone).replace(tzinfo=None) == wall:
        return found
    # Skipped: between the instants the offsets before and after the change give, the
    # first whole second whose wall time is not earlier (changes fall on whole seconds).
    low, high = sorted((at.replace(fold=1).timestamp(), at.timestamp()))
    lo, hi = math.floor(low), math.ceil(high)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@dataclass(frozen=True)
class Pause:
    """A span during which the clock stops; `end` None: it has not ended."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        _utc(self.start)
        if self.end is not None and _utc(self.end) < _utc(self.start):
            raise ValueError("a pause cannot end before it starts")


@dataclass(frozen=True)
class BusinessHours:
    """Weekly openings in `zone`, closed on `holidays` (dates in that zone)."""

    zone: str
    openings: tuple[Opening, ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.openings:
            raise ValueError("business hours need at least one opening")

    @classmethod
    def always(cls, zone: str = "UTC") -> BusinessHours:
        """Open around the clock, every day (no holidays)."""
        return cls(zone, tuple(Opening(d, MIDNIGHT, None) for d in range(7)))

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> BusinessHours:
        """From `{"time_zone": "Europe/Paris", "weekly": {"monday": [["09:00", "17:00"]],
        ...}, "holidays": ["2026-12-25"]}`; an InvalidValueError names what is wrong."""
        zone = data.get("time_zone")
        if not isinstance(zone, str) or not zone:
            raise InvalidValueError("time_zone", "an IANA time zone, such as Europe/Paris")
        time_zone(zone)
        weekly = data.get("weekly")
        if not isinstance(weekly, Mapping):
            raise InvalidValueError("weekly", 'opening hours per weekday: {"monday": [...]}')
        openings: list[Opening] = []
        for name, spans in weekly.items():
            if name not in WEEKDAYS:
                raise InvalidValueError(f"weekly.{name}", f"not a weekday: {', '.join(WEEKDAYS)}")
            openings.extend(_day(name, spans))
        if not openings:
            raise InvalidValueError("weekly", "business hours need at least one opening")
        return cls(zone, tuple(openings), frozenset(_holidays(data.get("holidays", []))))

    def weekly_minutes(self) -> int:
        """How many minutes of wall-clock time it is open in a week."""
        return sum(end - start for start, end in (o.minutes() for o in self.openings))

    def to_data(self) -> dict[str, Any]:
        """What `parse` reads back (for events and answers)."""
        weekly: dict[str, list[list[str]]] = {}
        for opening in sorted(self.openings, key=lambda o: (o.weekday, o.start)):
            end = END_OF_DAY if opening.end is None else opening.end.strftime("%H:%M")
            spans = weekly.setdefault(WEEKDAYS[opening.weekday], [])
            spans.append([opening.start.strftime("%H:%M"), end])
        return {
            "time_zone": self.zone,
            "weekly": weekly,
            "holidays": [day.isoformat() for day in sorted(self.holidays)],
        }

    # --- arithmetic ------------------------------------------------------------------

    def intervals(
        self, since: datetime, *, horizon: bool = True
    ) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals from `since` on, in order, the first clipped to `since`;
        endless (callers stop), or (`horizon`) BeyondHorizonError after ten years."""
        zone = time_zone(self.zone)
        by_day: dict[int, list[Opening]] = {}
        for opening in sorted(self.openings, key=lambda o: o.start):
            by_day.setdefault(opening.weekday, []).append(opening)
        # Wall times map to instants in order (`instant`), so intervals come in order; one
        # that starts where another ended (a night shift through midnight) stays apart.
        reached = _utc(since)
        # The day before, for an opening of the previous local day that runs past `since`.
        day = reached.astimezone(zone).date() - timedelta(days=1)
        last = day + timedelta(days=HORIZON_DAYS)
        while True:
            if horizon and day > last:
                raise BeyondHorizonError(self.zone, since)
            if day not in self.holidays:
                for opening in by_day.get(day.weekday(), ()):
                    start, end = opening.on(day, zone)
                    begin = max(start, reached)
                    if end > begin:
                        yield begin, end
                        reached = end
            day += timedelta(days=1)

    def add(
        self, start: datetime, span: float | timedelta, pauses: Sequence[Pause] = ()
    ) -> datetime | None:
        """The instant `span` (seconds, or a timedelta) of business time after `start`, not
        counting `pauses`; None while a pause with no end stops the clock before then."""
        left = span if isinstance(span, timedelta) else timedelta(seconds=span)
        if left < timedelta():
            raise ValueError("a negative span of business time")
        for free_start, free_end in _without(self.intervals(start), pauses):
            if free_end is None:
                return None
            span = free_end - free_start
            if left <= span:
                return free_start + left
            left -= span
        raise AssertionError("the intervals never end")  # pragma: no cover

    def between(self, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> float:
        """The seconds of business time from `start` to `end` (0 if `end` is not later),
        not counting `pauses`."""
        return self.elapsed(start, end, pauses).total_seconds()

    def elapsed(self, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """The business time from `start` to `end`, exact to the microsecond."""
        end = _utc(end)
        total = timedelta()
        if end <= _utc(start):
            return total
        for free_start, free_end in _without(self.intervals(start, horizon=False), pauses):
            if free_start >= end:
                break
            if free_end is None:
                break
            total += min(free_end, end) - free_start
            if free_end >= end:
                break
        return total


def _without(
    intervals: Iterable[tuple[datetime, datetime]], pauses: Sequence[Pause]
) -> Iterator[tuple[datetime, datetime | None]]:
    """`intervals` less the pauses; a pause with no end ends the stream with
    (its start, None)."""
    ordered = sorted(
        ((_utc(p.start), None if p.end is None else _utc(p.end)) for p in pauses),
        key=lambda p: p[0],
    )
    for start, end in intervals:
        cursor = start
        for pause_start, pause_end in ordered:
            if pause_end is not None and pause_end <= cursor:
                continue
            if pause_start >= end:
                break
            if pause_start > cursor:
                yield cursor, pause_start
            if pause_end is None:
                yield max(pause_start, cursor), None
                return
            cursor = pause_end
            if cursor >= end:
                break
        if cursor < end:
            yield cursor, end


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone `name` (or UTC); a clear error for any other name."""
    if name not in _zone_names():
        raise InvalidValueError("time_zone", f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed, yet unreadable
        raise InvalidValueError("time_zone", f"unknown time zone {name!r}") from None


@functools.cache
def _zone_names() -> frozenset[str]:
    """The IANA zones (and UTC), without the files that are not zones of a place: the
    host's own `localtime`, `Factory`, `posixrules`, and the `posix/` and `right/` copies."""
    names = {"UTC"} | available_timezones()
    return frozenset(
        n
        for n in names
        if n not in ("localtime", "Factory", "posixrules")
        and not n.startswith(("posix/", "right/"))
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    return moment.astimezone(UTC)


def _day(name: str, spans: Any) -> list[Opening]:
    field = f"weekly.{name}"
    if not isinstance(spans, list):
        raise InvalidValueError(field, 'a list of ["HH:MM", "HH:MM"] spans')
    weekday = WEEKDAYS.index(name)
    openings = []
    for span in spans:
        if not (isinstance(span, list | tuple) and len(span) == 2):
            raise InvalidValueError(field, f'{span!r} is not a ["HH:MM", "HH:MM"] span')
        start = _clock(field, span[0])
        end = None if span[1] == END_OF_DAY else _clock(field, span[1])
        opening = Opening(weekday, start, end)
        first, last = opening.minutes()
        if last <= first:
            raise InvalidValueError(field, f"{span[0]}-{span[1]} ends before it starts")
        openings.append(opening)
    openings.sort(key=lambda o: o.start)
    for before, after in pairwise(openings):
        if after.minutes()[0] < before.minutes()[1]:
            raise InvalidValueError(field, "spans overlap")
    return openings


def _clock(field: str, value: Any) -> time:
    if not (isinstance(value, str) and CLOCK.fullmatch(value)):
        raise InvalidValueError(field, f"{value!r} is not a time of day HH:MM")
    return time(int(value[:2]), int(value[3:]))


def _holidays(values: Any) -> list[date]:
    if not isinstance(values, list):
        raise InvalidValueError("holidays", "a list of dates YYYY-MM-DD")
    days = []
    for value in values:
        try:
            if not (isinstance(value, str) and DAY.fullmatch(value)):
                raise ValueError(value)
            days.append(date.fromisoformat(value))
        except ValueError:
            raise InvalidValueError("holidays", f"{value!r} is not a date YYYY-MM-DD") from None
    return days
