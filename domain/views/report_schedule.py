"""The ReportSchedule aggregate: a saved report mailed to recipients on a schedule, and the
record of each run — exactly once per period.

A run is decided on the schedule's own stream. It starts (`RunStarted`) holding its period
for `LEASE`, so two workers never make the same period at once; it is settled by one event
(`RunSent`, or a `RunFailed` that gives up), appended only while that run still holds the
period. A failure to make the report — or a run that never finished — is retried
(`RETRY_AFTER`) and then given up, which tells the owner; so is a mail that could not be
delivered (`DeliveryFailed`, recorded with the mail's own failure), and periods the workers
missed while they were down (`Missed`: the last `CATCH_UP` are still made, oldest first)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError
from domain.values import utc_text
from domain.views.schedule import (
    CATCH_UP,
    checked_format,
    checked_recipients,
    checked_schedule,
    latest_at_or_before,
    next_after,
    next_run,
)

# The waits before the second and third attempt at making a period's report; the third
# failure gives up.
RETRY_AFTER = (timedelta(minutes=5), timedelta(minutes=30))
# How long a started run holds its period (past the workers' 10-minute time limit): a run
# that has not finished by then failed (its worker stopped), and another may try again.
LEASE = timedelta(minutes=15)
# Periods missed while the workers were down: the last CATCH_UP are still made, oldest
# first (`domain.views.schedule`); the older ones are recorded as missed (at most
# MAX_MISSED counted).
MAX_MISSED = 1000
MAX_ERROR = 2000


class ReportScheduleNotFoundError(NotFoundError):
    def __init__(self, schedule_id: str) -> None:
        super().__init__(f"no report schedule {schedule_id}")


class ReportSchedule(Aggregate):
    """Saved report `report_id`, run as its `owner` sees it, mailed as `format` to
    `recipients` on `schedule` (`domain.views.schedule`) from `starts` on."""

    TOPIC = "ledgerdesk:ReportSchedule"

    if TYPE_CHECKING:
        Changed: ClassVar[type[Aggregate.Event]]
        Deleted: ClassVar[type[Aggregate.Event]]
        RunStarted: ClassVar[type[Aggregate.Event]]
        RunSent: ClassVar[type[Aggregate.Event]]
        Missed: ClassVar[type[Aggregate.Event]]
        RunFailed: ClassVar[type[Aggregate.Event]]
        DeliveryFailed: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ReportSchedule.Created"

    class Scheduled(Aggregate.Created):
        TOPIC = "ledgerdesk:ReportSchedule.Scheduled"
        report_id: str
        owner: str
        recipients: list[str]
        format: str
        schedule: dict[str, Any]
        active: bool
        starts: str
        actor: str
        correlation_id: str

    @event(Scheduled)
    def __init__(
        self,
        report_id: str,
        owner: str,
        recipients: list[str],
        format: str,
        schedule: dict[str, Any],
        active: bool,
        starts: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.report_id = report_id
        self.owner = owner
        self.recipients = recipients
        self.format = format
        self.schedule = schedule
        self.active = active
        self.starts = starts
        self.deleted = False
        # The last period settled (sent, or given up), and the one being retried.
        self.last_period: str | None = None
        self.pending: dict[str, Any] | None = None
        # The run under way: its period, attempt, and until when it holds it.
        self.running: dict[str, Any] | None = None

    @classmethod
    def create(
        cls,
        *,
        schedule_id: UUID,
        report_id: UUID,
        owner: UUID,
        given: dict[str, Any],
        now: datetime,
        actor: str,
        correlation_id: str,
    ) -> ReportSchedule:
        return cls._create(
            cls.Scheduled,
            id=schedule_id,
            report_id=str(report_id),
            owner=str(owner),
            recipients=checked_recipients(given.get("recipients")),
            format=checked_format(given.get("format", "pdf")),
            schedule=checked_schedule(given.get("schedule")),
            active=_active(given.get("active", True)),
            starts=utc_text(now),
            actor=actor,
            correlation_id=correlation_id,
        )

    def _check_live(self) -> None:
        if self.deleted:
            raise ReportScheduleNotFoundError(str(self.id))

    def change(self, given: dict[str, Any], now: datetime, actor: str, correlation_id: str) -> None:
        """Change the recipients, format, schedule or `active`; a new schedule (or one
        switched on again) counts from now: a period before the change is not sent."""
        self._check_live()
        settings: dict[str, Any] = {
            "recipients": checked_recipients(given["recipients"])
            if "recipients" in given
            else self.recipients,
            "format": checked_format(given["format"]) if "format" in given else self.format,
            "schedule": checked_schedule(given["schedule"])
            if "schedule" in given
            else self.schedule,
            "active": _active(given["active"]) if "active" in given else self.active,
        }
        current = {
            "recipients": self.recipients,
            "format": self.format,
            "schedule": self.schedule,
            "active": self.active,
        }
        if settings == current:
            return
        restarts = settings["schedule"] != self.schedule or (settings["active"] and not self.active)
        starts = utc_text(now) if restarts else self.starts
        # What waited is not made now (nor a file being made in the format it had).
        reformatted = settings["format"] != self.format and self.running is not None
        if restarts or reformatted or not settings["active"]:
            self._give_up("the schedule changed before its run was done", actor, correlation_id)
        self._changed(**settings, starts=starts, actor=actor, correlation_id=correlation_id)

    @event("Changed", topic="ledgerdesk:ReportSchedule.Changed")
    def _changed(
        self,
        recipients: list[str],
        format: str,
        schedule: dict[str, Any],
        active: bool,
        starts: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.recipients = recipients
        self.format = format
        self.schedule = schedule
        self.active = active
        self.starts = starts

    def delete(self, actor: str, correlation_id: str) -> None:
        self._check_live()
        self._deleted(actor=actor, correlation_id=correlation_id)

    @event("Deleted", topic="ledgerdesk:ReportSchedule.Deleted")
    def _deleted(self, actor: str, correlation_id: str) -> None:
        self.deleted = True
        self.running = None  # A run under way is not recorded: nothing is mailed
        self.pending = None

    # --- runs ------------------------------------------------------------------------

    def _unsettled(self, now: datetime) -> list[datetime]:
        """The occurrences up to `now` not yet settled, of the last `CATCH_UP` (older ones
        are missed), oldest first."""
        found: list[datetime] = []
        moment = now
        for _ in range(CATCH_UP):
            occurrence = latest_at_or_before(self.schedule, moment)
            if occurrence < datetime.fromisoformat(self.starts) or (
                self.last_period and occurrence <= datetime.fromisoformat(self.last_period)
            ):
                break
            found.append(occurrence)
            moment = occurrence - timedelta(microseconds=1)
        return found[::-1]

    def due(self, now: datetime) -> datetime | None:
        """The period a run at `now` is for — the oldest of the last `CATCH_UP` occurrences
        not yet settled — or None: not active, nothing due since it started or since the
        last period settled, its retry not yet due, or a run of it under way."""
        if self.deleted or not self.active:
            return None
        unsettled = self._unsettled(now)
        if not unsettled:
            return None
        period = unsettled[0]
        for waiting, until in ((self.pending, "retry_at"), (self.running, "until")):
            if (
                waiting
                and waiting["period"] == utc_text(period)
                and datetime.fromisoformat(waiting[until]) > now
            ):
                return None
        return period

    @property
    def next_run_at(self) -> datetime | None:
        """When it is next due (None: switched off)."""
        waiting = self.running or self.pending
        return next_run(
            self.schedule,
            active=self.active and not self.deleted,
            starts=self.starts,
            last_period=self.last_period,
            retry=(waiting["period"], waiting.get("until") or waiting["retry_at"])
            if waiting
            else None,
        )

    def attempts_at(self, period: datetime) -> int:
        """The number of the attempt at `period` under way, or of the next one."""
        if self.running and self.running["period"] == utc_text(period):
            return int(self.running["attempt"])
        if self.pending and self.pending["period"] == utc_text(period):
            return int(self.pending["attempts"]) + 1
        return 1

    def runs(self, period: datetime, attempt: int) -> bool:
        """Whether this attempt at `period` is the run under way (the one to settle it)."""
        running = self.running
        return bool(
            running
            and not self.deleted
            and running["period"] == utc_text(period)
            and running["attempt"] == attempt
        )

    def start(self, period: datetime, now: datetime, actor: str, correlation_id: str) -> int:
        """Start making `period`'s report, held for `LEASE`: the attempt's number, or 0 when
        it is not started — another run holds it, or the one that held it never finished
        (a worker that stopped, or ran out of time: a failed attempt, retried later)."""
        running = self.running
        if running and running["period"] == utc_text(period):
            if datetime.fromisoformat(running["until"]) > now:
                return 0
            error = "the run did not finish: its worker stopped or ran out of time"
            self.failed(period, error, now, actor, correlation_id)
            return 0
        self._settle_before(period, actor, correlation_id)
        attempt = self.attempts_at(period)
        self._run_started(
            period=utc_text(period),
            attempt=attempt,
            until=utc_text(now + LEASE),
            actor=actor,
            correlation_id=correlation_id,
        )
        return attempt

    @event("RunStarted", topic="ledgerdesk:ReportSchedule.RunStarted")
    def _run_started(
        self, period: str, attempt: int, until: str, actor: str, correlation_id: str
    ) -> None:
        self.running = {"period": period, "attempt": attempt, "until": until}

    def sent(self, period: datetime, made: dict[str, Any], actor: str, correlation_id: str) -> None:
        """The period's report was made and its mails queued: `made` names the file (`name`,
        `media_type`, `size`, `sha256`), the days it covers (`from`, `to`) and `recipients`."""
        self._settle_before(period, actor, correlation_id)
        self._run_sent(
            period=utc_text(period),
            attempt=self.attempts_at(period),
            **made,
            actor=actor,
            correlation_id=correlation_id,
        )

    @event("RunSent", topic="ledgerdesk:ReportSchedule.RunSent")
    def _run_sent(
        self,
        period: str,
        attempt: int,
        name: str,
        media_type: str,
        size: int,
        sha256: str,
        days: dict[str, str],
        recipients: list[str],
        actor: str,
        correlation_id: str,
    ) -> None:
        self.last_period = period
        self.pending = None
        self.running = None

    def failed(
        self,
        period: datetime,
        error: str,
        now: datetime,
        actor: str,
        correlation_id: str,
        retry: bool = True,
    ) -> bool:
        """The period's report could not be made: tried again later, or (not `retry`, or
        out of attempts) given up. Whether it was given up."""
        self._settle_before(period, actor, correlation_id)
        attempt = self.attempts_at(period)
        gives_up = not retry or attempt > len(RETRY_AFTER)
        retry_at = None if gives_up else utc_text(now + RETRY_AFTER[attempt - 1])
        self._run_failed(
            owner=self.owner,
            period=utc_text(period),
            attempt=attempt,
            error=error[:MAX_ERROR],
            retry_at=retry_at,
            actor=actor,
            correlation_id=correlation_id,
        )
        return gives_up

    def _give_up(self, error: str, actor: str, correlation_id: str) -> None:
        """A period retried or under way is given up (`error` says why)."""
        waiting = self.running or self.pending
        if waiting:
            self._run_failed(
                owner=self.owner,
                period=waiting["period"],
                attempt=waiting.get("attempt") or waiting["attempts"],
                error=error,
                retry_at=None,
                actor=actor,
                correlation_id=correlation_id,
            )

    def _settle_before(self, period: datetime, actor: str, correlation_id: str) -> None:
        """Before `period` is run: an earlier period still waiting is given up, and the
        periods missed since the last one settled are recorded (the workers were down)."""
        waiting = self.running or self.pending
        if waiting and waiting["period"] < utc_text(period):
            self._give_up("not made before the next period was due", actor, correlation_id)
        after = datetime.fromisoformat(self.starts) - timedelta(microseconds=1)
        if self.last_period:
            after = max(after, datetime.fromisoformat(self.last_period))
        missed: list[datetime] = []
        occurrence = next_after(self.schedule, after)
        while occurrence < period and len(missed) < MAX_MISSED:
            missed.append(occurrence)
            occurrence = next_after(self.schedule, occurrence)
        if missed:
            count = f"{len(missed)}{'+' if len(missed) == MAX_MISSED else ''}"
            self._missed(
                owner=self.owner,
                period=utc_text(missed[0]),
                last=utc_text(missed[-1]),
                count=len(missed),
                error=f"{count} period(s) missed: the workers were not running then",
                actor=actor,
                correlation_id=correlation_id,
            )

    @event("Missed", topic="ledgerdesk:ReportSchedule.Missed")
    def _missed(
        self,
        owner: str,
        period: str,
        last: str,
        count: int,
        error: str,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.last_period = last

    @event("RunFailed", topic="ledgerdesk:ReportSchedule.RunFailed")
    def _run_failed(
        self,
        owner: str,
        period: str,
        attempt: int,
        error: str,
        retry_at: str | None,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.running = None
        if retry_at is None:
            self.last_period = period
            self.pending = None
        else:
            self.pending = {"period": period, "attempts": attempt, "retry_at": retry_at}

    def delivery_failed(
        self, period: str, recipient: str, error: str, actor: str, correlation_id: str
    ) -> None:
        """A run's mail to `recipient` could not be delivered (for good)."""
        if self.deleted:
            return
        self._delivery_failed(
            owner=self.owner,
            period=period,
            recipient=recipient,
            error=error[:MAX_ERROR],
            actor=actor,
            correlation_id=correlation_id,
        )

    @event("DeliveryFailed", topic="ledgerdesk:ReportSchedule.DeliveryFailed")
    def _delivery_failed(
        self, owner: str, period: str, recipient: str, error: str, actor: str, correlation_id: str
    ) -> None:
        pass


def _active(given: Any) -> bool:
    if not isinstance(given, bool):
        raise InvalidValueError("active", "active is true or false")
    return given
