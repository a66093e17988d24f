"""When a scheduled report goes out: weekly on a weekday, or monthly on a day of the month,
at a wall-clock time in a time zone — kept in one normal form, and the instants it names.

A schedule's *occurrences* are instants (UTC). The one a run is for — its *period* — is the
latest occurrence at or before the run; a monthly day past a month's end is that month's
last day, and a wall time the clocks skip is the moment they change
(`domain.sla.business_hours.instant`)."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.errors import InvalidValueError
from domain.mail.addresses import Address
from domain.sla.business_hours import instant, time_zone

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY = ("week", "month")
FORMATS = ("pdf", "csv", "xlsx")
MAX_RECIPIENTS = 50
# How many of the latest occurrences missed are still made (oldest first) after downtime.
CATCH_UP = 3
MAX_ADDRESS = 254


def _refuse(path: str, message: str) -> InvalidValueError:
    return InvalidValueError(f"schedule.{path}", message)


def _wall_time(given: Any) -> str:
    if isinstance(given, str) and len(given) == 5 and given[2] == ":":
        try:
            return time.fromisoformat(given).strftime("%H:%M")
        except ValueError:
            pass
    raise _refuse("time", "time is HH:MM, 24-hour (08:30)")


def checked_schedule(given: Any) -> dict[str, Any]:
    """`{every: week, weekday, time, time_zone}` or `{every: month, day, time, time_zone}`
    in normal form (`day` 1 to 31: a later day than a month has is its last)."""
    if not isinstance(given, dict):
        raise InvalidValueError("schedule", "a schedule is an object")
    every = given.get("every")
    if every not in EVERY:
        raise _refuse("every", "every is week or month")
    allowed = {"every", "time", "time_zone", "weekday" if every == "week" else "day"}
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise _refuse(unknown[0], f"a {every}ly schedule takes no {unknown[0]!r}")
    zone = given.get("time_zone", "UTC")
    if not isinstance(zone, str):
        raise _refuse("time_zone", "time_zone is an IANA time zone (Europe/Paris)")
    try:
        time_zone(zone)
    except InvalidValueError:
        raise _refuse("time_zone", f"unknown time zone {zone!r}") from None
    checked: dict[str, Any] = {
        "every": every,
        "time": _wall_time(given.get("time")),
        "time_zone": zone,
    }
    if every == "week":
        weekday = given.get("weekday")
        if not isinstance(weekday, str) or weekday.lower() not in WEEKDAYS:
            raise _refuse("weekday", f"weekday is one of {', '.join(WEEKDAYS)}")
        checked["weekday"] = weekday.lower()
    else:
        day = given.get("day")
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 31:
            raise _refuse("day", "day is 1 to 31 (past a month's end: its last day)")
        checked["day"] = day
    return checked


def checked_recipients(given: Any) -> list[str]:
    """Addresses, each once (lower case), at least one."""
    if not isinstance(given, list) or not 1 <= len(given) <= MAX_RECIPIENTS:
        raise InvalidValueError("recipients", f"recipients is a list of 1 to {MAX_RECIPIENTS}")
    found: dict[str, None] = {}
    for index, one in enumerate(given):
        parsed = Address.parse(one) if isinstance(one, str) else None
        if (
            parsed is None
            or "." not in parsed.domain
            or not all(parsed.domain.split("."))
            or len(one) > MAX_ADDRESS
            or any(c.isspace() or c in "<>,;\"'" for c in one.strip())
        ):
            raise InvalidValueError(f"recipients[{index}]", f"not a mail address: {one!r}")
        found.setdefault(one.strip().lower(), None)
    return list(found)


def checked_format(given: Any) -> str:
    if given not in FORMATS:
        raise InvalidValueError("format", f"format is one of {', '.join(FORMATS)}")
    return str(given)


def _on(schedule: dict[str, Any], day: date) -> datetime:
    """The instant (UTC) of the schedule's wall time on `day`, in its zone."""
    wall = datetime.combine(day, time.fromisoformat(schedule["time"]))
    return instant(wall, time_zone(schedule["time_zone"]))


def _days(schedule: dict[str, Any], around: date) -> list[date]:
    """The schedule's days near `around`: the one before, its own period's, the one after."""
    if schedule["every"] == "week":
        weekday = WEEKDAYS.index(schedule["weekday"])
        this = around - timedelta(days=around.weekday() - weekday)
        return [this - timedelta(days=7), this, this + timedelta(days=7)]
    found = []
    for step in (-1, 0, 1):
        month_index = around.year * 12 + around.month - 1 + step
        year, month = divmod(month_index, 12)
        last = monthrange(year, month + 1)[1]
        found.append(date(year, month + 1, min(schedule["day"], last)))
    return found


def latest_at_or_before(schedule: dict[str, Any], moment: datetime) -> datetime:
    """The schedule's last occurrence at or before `moment`."""
    local = moment.astimezone(time_zone(schedule["time_zone"])).date()
    candidates = [_on(schedule, d) for d in _days(schedule, local)]
    candidates += [_on(schedule, d) for d in _days(schedule, _days(schedule, local)[0])]
    return max(c for c in candidates if c <= moment)


def next_after(schedule: dict[str, Any], moment: datetime) -> datetime:
    """The schedule's first occurrence after `moment`."""
    local = moment.astimezone(time_zone(schedule["time_zone"])).date()
    candidates = [_on(schedule, d) for d in _days(schedule, local)]
    candidates += [_on(schedule, d) for d in _days(schedule, _days(schedule, local)[2])]
    return min(c for c in candidates if c > moment)


def local_day(schedule: dict[str, Any], moment: datetime) -> date:
    """The day `moment` is in the schedule's zone (a run's `today`)."""
    return moment.astimezone(time_zone(schedule["time_zone"])).date()


def next_run(
    schedule: dict[str, Any],
    *,
    active: bool,
    starts: str,
    last_period: str | None,
    retry: tuple[str, str] | None,
    catch_up: int = CATCH_UP,
) -> datetime | None:
    """When a schedule is next due: its first occurrence since it started (`starts`) and
    after the last period settled — or, while a period waits (`retry`: the period, and when
    its retry is due or its run's hold ends), that time, unless the period falls out of the
    last `catch_up` occurrences first (then the next is due); None while switched off."""
    if not active:
        return None
    after = datetime.fromisoformat(starts) - timedelta(microseconds=1)
    if last_period:
        after = max(after, datetime.fromisoformat(last_period))
    if retry is None:
        return next_after(schedule, after)
    period, until = (datetime.fromisoformat(moment) for moment in retry)
    dropped = period
    for _ in range(catch_up):
        dropped = next_after(schedule, dropped)
    return min(until, dropped)
