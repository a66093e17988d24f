"""The ReportSchedule aggregate: a saved report mailed to recipients on a schedule, and the
record of each run — exactly once per period.

A run is decided on the schedule's own stream: the period it is for (`due`) is settled by
one event (`RunSent`, or a `RunFailed` that gives up), so two workers that make the same
period's report both try to append at the same version and only one succeeds; the other,
deciding again, finds the period settled. A failure to make the report is retried
(`RETRY_AFTER`) and then given up, which tells the owner; so is a mail that could not be
delivered (`DeliveryFailed`, recorded with the mail's own failure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError
from domain.values import utc_text
from domain.views.schedule import (
    checked_format,
    checked_recipients,
    checked_schedule,
    latest_at_or_before,
    next_run,
)

# The waits before the second and third attempt at making a period's report; the third
# failure gives up.
RETRY_AFTER = (timedelta(minutes=5), timedelta(minutes=30))
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
        RunSent: ClassVar[type[Aggregate.Event]]
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
        if starts != self.starts:
            self.starts = starts
            self.pending = None

    def delete(self, actor: str, correlation_id: str) -> None:
        self._check_live()
        self._deleted(actor=actor, correlation_id=correlation_id)

    @event("Deleted", topic="ledgerdesk:ReportSchedule.Deleted")
    def _deleted(self, actor: str, correlation_id: str) -> None:
        self.deleted = True

    # --- runs ------------------------------------------------------------------------

    def due(self, now: datetime) -> datetime | None:
        """The period a run at `now` is for, or None: not active, no occurrence since it
        started, this period settled already, or its retry not yet due."""
        if self.deleted or not self.active:
            return None
        period = latest_at_or_before(self.schedule, now)
        if period < datetime.fromisoformat(self.starts):
            return None
        if self.last_period is not None and period <= datetime.fromisoformat(self.last_period):
            return None
        pending = self.pending
        if (
            pending
            and pending["period"] == utc_text(period)
            and datetime.fromisoformat(pending["retry_at"]) > now
        ):
            return None
        return period

    @property
    def next_run_at(self) -> datetime | None:
        """When it is next due (None: switched off)."""
        return next_run(
            self.schedule,
            active=self.active and not self.deleted,
            starts=self.starts,
            last_period=self.last_period,
            retry=(self.pending["period"], self.pending["retry_at"]) if self.pending else None,
        )

    def attempts_at(self, period: datetime) -> int:
        """This attempt's number for `period` (1 unless it failed before)."""
        pending = self.pending
        if pending and pending["period"] == utc_text(period):
            return int(pending["attempts"]) + 1
        return 1

    def sent(self, period: datetime, made: dict[str, Any], actor: str, correlation_id: str) -> None:
        """The period's report was made and its mails queued: `made` names the file (`name`,
        `media_type`, `size`, `sha256`), the days it covers (`from`, `to`) and `recipients`."""
        self._give_up_before(period, actor, correlation_id)
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
        self._give_up_before(period, actor, correlation_id)
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

    def _give_up_before(self, period: datetime, actor: str, correlation_id: str) -> None:
        """An earlier period still waiting to be tried again is given up: the next one is
        due."""
        pending = self.pending
        if pending and pending["period"] < utc_text(period):
            self._run_failed(
                owner=self.owner,
                period=pending["period"],
                attempt=pending["attempts"],
                error="not made before the next period was due",
                retry_at=None,
                actor=actor,
                correlation_id=correlation_id,
            )

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
        if retry_at is None:
            self.last_period = period
            self.pending = None
        else:
            self.pending = {"period": period, "attempts": attempt, "retry_at": retry_at}

    def delivery_failed(
        self, period: str, recipient: str, error: str, actor: str, correlation_id: str
    ) -> None:
        """A run's mail to `recipient` could not be delivered (for good)."""
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
