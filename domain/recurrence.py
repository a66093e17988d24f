"""A recurrence rule as the model keeps it (the RFC 5545 subset a series uses).

The domain only checks and stores the rule; `commands.recurrence` expands it into
dates with python-dateutil (the domain imports nothing outside the standard library).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from domain.errors import InvalidValueError

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


@dataclass(frozen=True)
class Recurrence:
    """Every `interval` days/weeks/months/years from `starts`, optionally only on some
    weekdays or month days, ending after `count` occurrences or on `until` (or never)."""

    frequency: Frequency
    starts: date
    interval: int = 1
    weekdays: tuple[str, ...] = field(default=())
    month_days: tuple[int, ...] = field(default=())
    count: int | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.interval < 1:
            raise InvalidValueError("recurrence.interval", "interval is at least 1")
        unknown = [d for d in self.weekdays if d not in WEEKDAYS]
        if unknown:
            raise InvalidValueError(
                "recurrence.weekdays", f"unknown weekdays {unknown}; use {', '.join(WEEKDAYS)}"
            )
        if any(d == 0 or not -31 <= d <= 31 for d in self.month_days):
            raise InvalidValueError("recurrence.month_days", "month days are 1..31 or -31..-1")
        if self.count is not None and self.until is not None:
            raise InvalidValueError("recurrence.count", "give a count or an end date, not both")
        if self.count is not None and self.count < 1:
            raise InvalidValueError("recurrence.count", "count is at least 1")
        if self.until is not None and self.until < self.starts:
            raise InvalidValueError("recurrence.until", "the end date is before the start")

    def as_dict(self) -> dict[str, Any]:
        return {
            "frequency": self.frequency.value,
            "starts": self.starts.isoformat(),
            "interval": self.interval,
            "weekdays": list(self.weekdays),
            "month_days": list(self.month_days),
            "count": self.count,
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_dict(cls, rule: dict[str, Any]) -> Recurrence:
        return cls(
            frequency=Frequency(rule["frequency"]),
            starts=date.fromisoformat(rule["starts"]),
            interval=rule["interval"],
            weekdays=tuple(rule["weekdays"]),
            month_days=tuple(rule["month_days"]),
            count=rule["count"],
            until=date.fromisoformat(rule["until"]) if rule["until"] else None,
        )
