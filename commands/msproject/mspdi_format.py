"""What MSPDI's values mean, shared by the reader and the writer: the error a file that
cannot be read raises, the code tables (link types, constraint types, lag formats, resource
types) and the text forms of durations, dates and numbers.

The codes are Microsoft's (the Project XML Data Interchange schema, `mspdi_pj12.xsd` and
later); where the schema leaves a meaning open, MPXJ's MSPDI reader is followed (noted
where it matters).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element

from domain.errors import InvalidValueError
from domain.msproject.plan import MINUTES_PER_DAY, LagUnit
from domain.planning.constraints import ConstraintKind
from domain.planning.links import LinkKind

NAMESPACE = "http://schemas.microsoft.com/project"
SAVE_VERSION = 14  # what the writer writes: the Project 2010+ form (Active, Manual, Exceptions)
DAYS_PER_MONTH = 20  # MS Project's default, for a duration in months
NULL_RESOURCE_UID = -65535  # an assignment to no resource (MS Project writes it for % complete)
# The project's properties kept in `FilePlan.extra`, in the schema's order.
EXTRA = ("Title", "Subject", "Category", "Company", "Manager", "Author")

# PredecessorLink/Type: 0 FF, 1 FS, 2 SF, 3 SS (absent: FS).
LINK_KINDS = {
    0: LinkKind.FINISH_TO_FINISH,
    1: LinkKind.FINISH_TO_START,
    2: LinkKind.START_TO_FINISH,
    3: LinkKind.START_TO_START,
}
LINK_CODES = {kind: code for code, kind in LINK_KINDS.items()}

CONSTRAINTS = {
    0: ConstraintKind.AS_SOON_AS_POSSIBLE,
    1: ConstraintKind.AS_LATE_AS_POSSIBLE,
    2: ConstraintKind.MUST_START_ON,
    3: ConstraintKind.MUST_FINISH_ON,
    4: ConstraintKind.START_NO_EARLIER_THAN,
    5: ConstraintKind.START_NO_LATER_THAN,
    6: ConstraintKind.FINISH_NO_EARLIER_THAN,
    7: ConstraintKind.FINISH_NO_LATER_THAN,
}
CONSTRAINT_CODES = {kind: code for code, kind in CONSTRAINTS.items()}

# Duration formats (DurationFormat, LagFormat): 3 m, 4 em, 5 h, 6 eh, 7 d, 8 ed, 9 w, 10 ew,
# 11 mo, 12 emo, 19 %, 20 e%, 21 null; 35-44, 51, 52 the same "estimated" (?), 53 null.
# Only what the unit is matters here: elapsed (24-hour days) or a percent. Any other code,
# and none, is working time (as MPXJ reads it).
ELAPSED_FORMATS = frozenset({4, 6, 8, 10, 12, 36, 38, 40, 42, 44})
PERCENT_FORMATS = frozenset({19, 20, 51, 52})  # 20, 52: "elapsed percent", still a percent
FORMAT_DAYS, FORMAT_ELAPSED_DAYS, FORMAT_PERCENT = 7, 8, 19  # what the writer writes
LAG_FORMATS = {
    LagUnit.WORKING: FORMAT_DAYS,
    LagUnit.ELAPSED: FORMAT_ELAPSED_DAYS,
    LagUnit.PERCENT: FORMAT_PERCENT,
}


def lag_unit(lag_format: int | None) -> LagUnit:
    if lag_format in PERCENT_FORMATS:
        return LagUnit.PERCENT
    if lag_format in ELAPSED_FORMATS:
        return LagUnit.ELAPSED
    return LagUnit.WORKING


# Resource/Type: 0 material, 1 work (absent: work). A cost resource is written by MS Project
# as Type 0 with IsCostResource 1; Type 2 (MPXJ's and the object model's cost) is read too.
RESOURCE_KINDS = {0: "material", 1: "work", 2: "cost"}


class MspdiError(InvalidValueError):
    """Raised when a file is not an MSPDI plan this reader can read: the message names what
    is wrong, and where (the task's UID and the element)."""

    def __init__(self, message: str) -> None:
        super().__init__("file", message)


# xsd:duration as MS Project writes it ("PT16H0M0S"), and the rest of the form ("P2DT4H").
_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<years>\d+(?:\.\d*)?)Y)?(?:(?P<months>\d+(?:\.\d*)?)M)?"
    r"(?:(?P<weeks>\d+(?:\.\d*)?)W)?(?:(?P<days>\d+(?:\.\d*)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d*)?)H)?(?:(?P<minutes>\d+(?:\.\d*)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d*)?)S)?)?"
)
_DURATION_FIELDS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")


def parse_duration(
    text: str,
    minutes_per_day: int = MINUTES_PER_DAY,
    minutes_per_week: int = MINUTES_PER_DAY * 5,
) -> int | None:
    """Minutes (rounded to the nearest), or None if `text` is not an xsd:duration.

    MS Project writes durations and work as hours, minutes and seconds of the time they
    take ("PT16H0M0S" is two 8-hour days of working time; an elapsed day is "PT24H0M0S"):
    those are taken as they are. A day, week, month or year field (which MS Project does not
    write, other tools do) is taken as MPXJ does, as the project's day: `minutes_per_day`,
    a week `minutes_per_week`, a month 20 days, a year 12 months."""
    found = _DURATION.fullmatch(text.strip())
    if found is None or not any(found.group(name) for name in _DURATION_FIELDS):
        return None

    def part(name: str) -> float:
        return float(found.group(name) or 0)

    months = part("years") * 12 + part("months")
    days = months * DAYS_PER_MONTH + part("days")
    minutes = (
        days * minutes_per_day
        + part("weeks") * minutes_per_week
        + part("hours") * 60
        + part("minutes")
        + part("seconds") / 60
    )
    return -round(minutes) if found.group("sign") else round(minutes)


def format_duration(minutes: int) -> str:
    """`minutes` as MS Project writes a duration: hours and minutes ("PT16H30M0S")."""
    sign, minutes = ("-", -minutes) if minutes < 0 else ("", minutes)
    return f"{sign}PT{minutes // 60}H{minutes % 60}M0S"


def parse_datetime(text: str) -> datetime | None:
    """A date and time as the file has it ("2024-03-04T08:00:00"), without a time zone (one
    the file gives is dropped: the time is kept as written); None if it is not one."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=None)


def format_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def format_day(value: date, end: bool = False) -> str:
    """A day as an exception's FromDate (its start) or ToDate (its last minute, as MS Project
    writes it)."""
    return f"{value.isoformat()}T{'23:59:00' if end else '00:00:00'}"


def format_number(value: float) -> str:
    """A number as xsd:decimal, exact and without an exponent ("1", "0.5")."""
    return format(Decimal(repr(float(value))), "f").removesuffix(".0")


def parse_boolean(text: str) -> bool | None:
    return {"1": True, "true": True, "0": False, "false": False}.get(text.strip().lower())


class Fields:
    """The children of one element (a task, a calendar, a resource...) by name ("Start",
    "TimePeriod/FromDate"), each read as what it holds; a value that is not one raises
    `MspdiError` naming `where` ("task UID 5") and the element. An empty element is as good
    as none."""

    def __init__(self, element: Element, where: str) -> None:
        self.element = element
        self.where = where

    def string(self, name: str) -> str:
        """The text as written (not stripped): names and notes."""
        found = self.element.find(name)
        return "" if found is None or found.text is None else found.text

    def text(self, name: str) -> str | None:
        text = self.string(name).strip()
        return text or None

    def _refuse(self, name: str, text: str, what: str) -> MspdiError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        return MspdiError(f"{self.where}: <{name}> is not {what}: {shown!r}")

    def integer(self, name: str) -> int | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            number = self.number(name)  # "4800.0": a whole number written as a decimal
            if number is None or not number.is_integer():
                raise self._refuse(name, text, "a whole number") from None
            return int(number)

    def number(self, name: str) -> float | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            value = float(text)
        except ValueError:
            raise self._refuse(name, text, "a number") from None
        if not math.isfinite(value):
            raise self._refuse(name, text, "a number")
        return value

    def boolean(self, name: str) -> bool | None:
        text = self.text(name)
        if text is None:
            return None
        value = parse_boolean(text)
        if value is None:
            raise self._refuse(name, text, "0 or 1")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.boolean(name)
        return default if value is None else value

    def date_time(self, name: str) -> datetime | None:
        text = self.text(name)
        if text is None:
            return None
        value = parse_datetime(text)
        if value is None:
            raise self._refuse(name, text, "a date and time")
        return value

    def duration(self, name: str, minutes_per_day: int, minutes_per_week: int) -> int | None:
        text = self.text(name)
        if text is None:
            return None
        value = parse_duration(text, minutes_per_day, minutes_per_week)
        if value is None:
            raise self._refuse(name, text, "a duration (such as PT16H0M0S)")
        return value
