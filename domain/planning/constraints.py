"""Task constraints: when a task may start or finish (as soon or as late as possible, or on,
no earlier or no later than a date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.errors import ConstraintDateError, UnknownConstraintError


class ConstraintKind(StrEnum):
    AS_SOON_AS_POSSIBLE = "as_soon_as_possible"
    AS_LATE_AS_POSSIBLE = "as_late_as_possible"
    MUST_START_ON = "must_start_on"
    MUST_FINISH_ON = "must_finish_on"
    START_NO_EARLIER_THAN = "start_no_earlier_than"
    START_NO_LATER_THAN = "start_no_later_than"
    FINISH_NO_EARLIER_THAN = "finish_no_earlier_than"
    FINISH_NO_LATER_THAN = "finish_no_later_than"

    @property
    def needs_date(self) -> bool:
        return self not in _UNDATED


_ALAP = ConstraintKind.AS_LATE_AS_POSSIBLE
_UNDATED = frozenset({ConstraintKind.AS_SOON_AS_POSSIBLE, _ALAP})


@dataclass(frozen=True, slots=True)
class Constraint:
    """When a task may start or finish; every kind but ASAP and ALAP carries a date."""

    kind: ConstraintKind
    on: date | None = None

    def __post_init__(self) -> None:
        if self.kind.needs_date != (self.on is not None):
            raise ConstraintDateError(self.kind, needed=self.kind.needs_date)

    @classmethod
    def parse(cls, kind: str, on: date | None = None) -> Constraint:
        try:
            constraint_kind = ConstraintKind(kind)
        except ValueError:
            raise UnknownConstraintError(kind, [known.value for known in ConstraintKind]) from None
        return cls(constraint_kind, on)


ASAP = Constraint(ConstraintKind.AS_SOON_AS_POSSIBLE)
