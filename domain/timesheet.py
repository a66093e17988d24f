"""Timesheet entries: time a user spent on an item, from submission to approval.

An entry is drafted (kept for review) or submitted; the user edits or withdraws it until
it is approved; a manager or lead of the item's project approves it (then it is locked) or
rejects it with a reason (the user may then edit and submit it again). A correction to an
approved entry is a new entry that names it (`corrects`), with the difference in minutes
(which may be negative). An imported entry carries its import (`import_id`) and is staged,
shown nowhere and changed by no one, until that import completes (see `domain.imports`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError
from domain.values import Actor

MAX_MINUTES = 24 * 60


class EntryState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Source(StrEnum):
    MANUAL = "manual"
    TIMER = "timer"
    IMPORT = "import"


# The facts an entry carries that its user may edit until it is approved.
EDITABLE = ("work_date", "minutes", "started_at", "finished_at", "billable", "activity", "notes")


class EntryLockedError(ConflictError):
    """Raised when an approved or withdrawn entry would change."""

    def __init__(self, state: str) -> None:
        super().__init__(f"an entry that is {state} cannot change; log a correction instead")


class EntryStateError(ConflictError):
    """Raised when an entry is not in a state that allows the change."""

    def __init__(self, doing: str, state: str) -> None:
        super().__init__(f"cannot {doing} an entry that is {state}")


def duration(hours: Decimal | None, minutes: int | None, field: str = "hours") -> int | None:
    """Minutes from `hours` (a decimal, rounded to the minute) or `minutes`: one of them, not
    both (None when neither is given; a start and finish may give the time instead)."""
    if hours is not None and minutes is not None:
        raise InvalidValueError(field, "give hours or minutes, not both")
    if hours is not None:
        return int((hours * 60).to_integral_value())
    return minutes


def check_time(
    work_date: date,
    minutes: int,
    started_at: datetime | None,
    finished_at: datetime | None,
    *,
    correction: bool = False,
) -> int:
    """The entry's minutes: as given, or from its start and finish (which must agree)."""
    if (started_at is None) != (finished_at is None):
        raise InvalidValueError("finished_at", "give both a start and a finish, or neither")
    if started_at is not None and finished_at is not None:
        if (started_at.tzinfo is None) != (finished_at.tzinfo is None):
            raise InvalidValueError("finished_at", "give both times with a time zone, or neither")
        if finished_at <= started_at:
            raise InvalidValueError("finished_at", "finish must be after start")
        spanned = int((finished_at - started_at).total_seconds() // 60)
        if minutes and minutes != spanned:
            raise InvalidValueError("minutes", f"start to finish is {spanned} minutes")
        minutes = spanned
    low = -MAX_MINUTES if correction else 1
    if not low <= minutes <= MAX_MINUTES or (correction and minutes == 0):
        raise InvalidValueError("minutes", f"time is 1 minute to {MAX_MINUTES // 60} hours a day")
    if not date(1900, 1, 1) <= work_date <= date(9000, 12, 31):
        raise InvalidValueError("date", "date must be between 1900 and 9000")
    return minutes


class TimesheetEntry(Aggregate):
    """One user's time on one item on one day."""

    TOPIC = "ledgerdesk:TimesheetEntry"

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Edited: ClassVar[type[Aggregate.Event]]
        Submitted: ClassVar[type[Aggregate.Event]]
        Withdrawn: ClassVar[type[Aggregate.Event]]
        Approved: ClassVar[type[Aggregate.Event]]
        Rejected: ClassVar[type[Aggregate.Event]]
        Adjusted: ClassVar[type[Aggregate.Event]]
        Restaged: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:TimesheetEntry.Created"

    class Logged(Aggregate.Created):
        """The entry exists, as a draft or submitted. `item_number` and `project_id` say
        where the time went (the item's project when it was logged); `import_id` names the
        import that staged it (None: logged by hand or by a timer)."""

        TOPIC = "ledgerdesk:TimesheetEntry.Logged"
        # class_version 2: version 1 had no import_id (nothing was staged then).
        class_version = 2
        user_id: str
        item_number: int
        project_id: str
        work_date: str
        minutes: int
        started_at: str | None
        finished_at: str | None
        billable: bool
        activity: str
        notes: str
        source: str
        state: str
        corrects: str | None
        actor: str
        correlation_id: str
        import_id: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["import_id"] = None

    @event(Logged)
    def __init__(
        self,
        user_id: str,
        item_number: int,
        project_id: str,
        work_date: str,
        minutes: int,
        started_at: str | None,
        finished_at: str | None,
        billable: bool,
        activity: str,
        notes: str,
        source: str,
        state: str,
        corrects: str | None,
        actor: str,
        correlation_id: str,
        import_id: str | None,
    ) -> None:
        self.user_id = user_id
        self.item_number = item_number
        self.project_id = project_id
        self.work_date = work_date
        self.minutes = minutes
        self.started_at = started_at
        self.finished_at = finished_at
        self.billable = billable
        self.activity = activity
        self.notes = notes
        self.source = source
        self.state = state
        self.corrects = corrects
        self.import_id = import_id
        # Correction entry id -> the minutes it counts now (an approved entry's corrections).
        self.adjustments: dict[str, int] = {}

    @classmethod
    def log(
        cls,
        *,
        entry_id: UUID,
        user_id: UUID,
        item_number: int,
        project_id: str,
        work_date: date,
        minutes: int = 0,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        billable: bool = True,
        activity: str = "",
        notes: str = "",
        source: Source = Source.MANUAL,
        draft: bool = False,
        corrects: TimesheetEntry | None = None,
        import_id: UUID | None = None,
        actor: Actor,
        correlation_id: str,
    ) -> TimesheetEntry:
        if corrects is not None and corrects.state != EntryState.APPROVED:
            raise EntryStateError("correct", corrects.state)
        minutes = check_time(
            work_date, minutes, started_at, finished_at, correction=corrects is not None
        )
        return cls._create(
            cls.Logged,
            id=entry_id,
            user_id=str(user_id),
            item_number=item_number,
            project_id=project_id,
            work_date=work_date.isoformat(),
            minutes=minutes,
            started_at=started_at.isoformat() if started_at else None,
            finished_at=finished_at.isoformat() if finished_at else None,
            billable=billable,
            activity=activity.strip(),
            notes=notes,
            source=source.value,
            state=(EntryState.DRAFT if draft else EntryState.SUBMITTED).value,
            corrects=str(corrects.id) if corrects is not None else None,
            actor=actor.ref,
            correlation_id=correlation_id,
            import_id=str(import_id) if import_id is not None else None,
        )

    def restage(self, import_id: UUID, actor: Actor, correlation_id: str) -> None:
        """Another import takes this staged entry over (the same row in another file)."""
        if self.import_id is None:
            raise EntryStateError("stage", "not imported")
        if self.import_id != str(import_id):
            self._restaged(import_id=str(import_id), actor=actor.ref, correlation_id=correlation_id)

    @event("Restaged", topic="ledgerdesk:TimesheetEntry.Restaged")
    def _restaged(self, import_id: str, actor: str, correlation_id: str) -> None:
        self.import_id = import_id

    @property
    def counts(self) -> bool:
        """Does this entry count as time logged (submitted or approved)?"""
        return self.state in (EntryState.SUBMITTED, EntryState.APPROVED)

    def _check_open(self) -> None:
        if self.state in (EntryState.APPROVED, EntryState.WITHDRAWN):
            raise EntryLockedError(self.state)

    def edit(self, changes: dict[str, Any], actor: Actor, correlation_id: str) -> None:
        """Change what the user may change until approval (`EDITABLE` names, with dates
        and datetimes as objects); one event with only the fields that changed."""
        self._check_open()
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidValueError(sorted(unknown)[0], "this field cannot change")
        work_date = changes.get("work_date", date.fromisoformat(self.work_date))
        started = changes.get("started_at", _dt(self.started_at))
        finished = changes.get("finished_at", _dt(self.finished_at))
        spans = "started_at" in changes or "finished_at" in changes
        minutes = changes.get("minutes", 0 if spans else self.minutes)
        if "minutes" in changes and "started_at" not in changes:
            started, finished = None, None  # A new duration replaces the span.
        minutes = check_time(
            work_date, minutes, started, finished, correction=self.corrects is not None
        )
        new = {
            "work_date": work_date.isoformat(),
            "minutes": minutes,
            "started_at": started.isoformat() if started else None,
            "finished_at": finished.isoformat() if finished else None,
            "billable": changes.get("billable", self.billable),
            "activity": str(changes.get("activity", self.activity)).strip(),
            "notes": changes.get("notes", self.notes),
        }
        changed = {k: v for k, v in new.items() if v != getattr(self, k)}
        if changed:
            self._edited(changes=changed, actor=actor.ref, correlation_id=correlation_id)

    @event("Edited", topic="ledgerdesk:TimesheetEntry.Edited")
    def _edited(self, changes: dict[str, Any], actor: str, correlation_id: str) -> None:
        for field, value in changes.items():
            setattr(self, field, value)

    def submit(self, actor: Actor, correlation_id: str) -> None:
        """A draft (or a rejected entry, edited) goes to approval."""
        if self.state not in (EntryState.DRAFT, EntryState.REJECTED):
            raise EntryStateError("submit", self.state)
        self._submitted(actor=actor.ref, correlation_id=correlation_id)

    @event("Submitted", topic="ledgerdesk:TimesheetEntry.Submitted")
    def _submitted(self, actor: str, correlation_id: str) -> None:
        self.state = EntryState.SUBMITTED.value

    def withdraw(self, actor: Actor, correlation_id: str) -> None:
        self._check_open()
        self._withdrawn(actor=actor.ref, correlation_id=correlation_id)

    @event("Withdrawn", topic="ledgerdesk:TimesheetEntry.Withdrawn")
    def _withdrawn(self, actor: str, correlation_id: str) -> None:
        self.state = EntryState.WITHDRAWN.value

    def approve(self, actor: Actor, correlation_id: str) -> None:
        if self.state != EntryState.SUBMITTED:
            raise EntryStateError("approve", self.state)
        self._approved(actor=actor.ref, correlation_id=correlation_id)

    @event("Approved", topic="ledgerdesk:TimesheetEntry.Approved")
    def _approved(self, actor: str, correlation_id: str) -> None:
        self.state = EntryState.APPROVED.value

    def reject(self, reason: str, actor: Actor, correlation_id: str) -> None:
        if self.state != EntryState.SUBMITTED:
            raise EntryStateError("reject", self.state)
        if not reason.strip():
            raise InvalidValueError("reason", "say why the entry is rejected")
        self._rejected(reason=reason.strip(), actor=actor.ref, correlation_id=correlation_id)

    @event("Rejected", topic="ledgerdesk:TimesheetEntry.Rejected")
    def _rejected(self, reason: str, actor: str, correlation_id: str) -> None:
        self.state = EntryState.REJECTED.value

    def check_correction(self, correction_id: UUID, minutes: int) -> None:
        """Would correction `correction_id` counting `minutes` keep this entry (with all its
        corrections) between 0 and a day?"""
        others = sum(m for c, m in self.adjustments.items() if c != str(correction_id))
        total = self.minutes + others + minutes
        if not 0 <= total <= MAX_MINUTES:
            raise CorrectionRangeError(total)

    def adjust(self, correction_id: UUID, minutes: int, actor: Actor, correlation_id: str) -> None:
        """Record what correction `correction_id` now counts (0: nothing; withdrawn,
        rejected or a draft). The one change an approved entry takes."""
        if self.adjustments.get(str(correction_id), 0) != minutes:
            self._adjusted(
                correction_id=str(correction_id),
                minutes=minutes,
                actor=actor.ref,
                correlation_id=correlation_id,
            )

    @event("Adjusted", topic="ledgerdesk:TimesheetEntry.Adjusted")
    def _adjusted(self, correction_id: str, minutes: int, actor: str, correlation_id: str) -> None:
        if minutes:
            self.adjustments[correction_id] = minutes
        else:
            self.adjustments.pop(correction_id, None)


class CorrectionRangeError(InvalidValueError):
    """Raised when corrections would take an entry below nothing or above a day."""

    def __init__(self, total: int) -> None:
        super().__init__(
            "minutes",
            f"with its corrections the entry would count {total} minutes; it counts 0 to"
            f" {MAX_MINUTES}",
        )


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
