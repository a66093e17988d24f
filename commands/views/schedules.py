"""Scheduled reports: a saved report mailed to recipients weekly or monthly, and each
period's run, exactly once.

Who may do what, judged on the write model:
- a staff user schedules a saved report they may see; the schedule is theirs (its owner),
  and each run is made as they see it then (their projects, apps, time entries);
- its owner changes and deletes it; an admin (with a token that has the admin scope) too;
- a run whose saved report is gone, whose owner is deactivated or may no longer see it,
  fails at once and is not retried; any other failure to make it is retried, then given
  up (`domain.views.report_schedule`); either way its owner is told.

A run (`run_due`) first starts on the schedule's stream, holding its period for a while
(`RunStarted`: two workers that start at once race at the stream's version, and the loser,
deciding again, finds it held); the report is then read from the views and its file kept
in the blob store, outside any write; one write records the run and queues its mails —
only while this run still holds the period (not given up, changed or deleted meanwhile)."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from commands.application import LedgerDesk
from commands.blobs import BlobStore
from commands.mail.outgoing.service import MailOutService
from commands.models import CommandResult, Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from commands.views.saved import may_see
from domain.errors import DomainError, InvalidValueError, PermissionDeniedError
from domain.user import User
from domain.values import utc_text
from domain.views.report_schedule import ReportSchedule, ReportScheduleNotFoundError
from domain.views.saved_view import SavedView, SavedViewNotFoundError

log = logging.getLogger("ledgerdesk.reports")
RUN_ACTOR = "system:reports"
CHANGEABLE = ("recipients", "format", "schedule", "active")
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class MadeReport:
    """A run's report, made for its owner: the file and what the mail says of it."""

    file_name: str
    media_type: str
    data: bytes
    days: dict[str, str]  # `from`, `to`
    title: str
    period: str | None
    group_by: str | None


class ReportUnavailableError(DomainError):
    """The run cannot be made, and trying again will not help (not retried)."""


class NotYetError(Exception):
    """The run cannot be made now; it may later (retried)."""


UNEXPECTED = "the report could not be made (an unexpected error: see the workers' log)"


# Makes a run's report: the schedule, its saved report, the owner, the period (UTC).
Maker = Callable[[ReportSchedule, SavedView, User, datetime], MadeReport]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _staff(uow: UnitOfWork, ctx: Context, what: str) -> User:
    user = acting_user(uow, ctx)
    if user is None:
        raise PermissionDeniedError(f"only a staff user may {what}")
    return user


def _report_id(given: Any) -> UUID:
    try:
        return UUID(str(given))
    except ValueError:
        raise InvalidValueError("report_id", "report_id is a saved report's id") from None


class ReportScheduleService:
    def __init__(
        self,
        app: LedgerDesk,
        mail_out: MailOutService,
        blobs: BlobStore,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.app = app
        self.mail_out = mail_out
        self.blobs = blobs
        # By default the time now (`utc_now`, looked up at each call).
        self.clock = clock or (lambda: utc_now())

    def find(self, schedule_id: UUID) -> ReportSchedule | None:
        found = UnitOfWork(self.app).get(schedule_id, ReportSchedule)
        return None if found is None or found.deleted else found

    # --- set-up ----------------------------------------------------------------------

    def create(self, given: dict[str, Any], ctx: Context) -> CommandResult:
        """A schedule of the saved report `report_id` (one the caller may see), owned by
        the caller."""
        if "report_id" not in given:
            raise InvalidValueError("report_id", "a schedule needs a report_id")
        report_id = _report_id(given["report_id"])
        schedule_id = uuid4()

        def decide(uow: UnitOfWork) -> list[Any]:
            user = _staff(uow, ctx, "schedule reports")
            report = uow.get(report_id, SavedView)
            if report is None or report.kind != "report" or not may_see(uow, report, user):
                raise SavedViewNotFoundError(str(report_id), "report")
            made = ReportSchedule.create(
                schedule_id=schedule_id,
                report_id=report_id,
                owner=user.id,
                given=given,
                now=self.clock(),
                actor=ctx.actor.ref,
                correlation_id=ctx.correlation_id,
            )
            self._not_ours(uow, made.recipients)
            return [made]

        return self._result(run(self.app, schedule_id, decide))

    def change(
        self,
        schedule_id: UUID,
        given: dict[str, Any],
        ctx: Context,
        expected_version: int | None = None,
        as_admin: bool = False,
    ) -> CommandResult:
        unknown = sorted(set(given) - set(CHANGEABLE))
        if unknown:
            raise InvalidValueError(unknown[0], f"a schedule's {unknown[0]!r} cannot be changed")

        def decide(uow: UnitOfWork) -> list[Any]:
            schedule = self._changeable(uow, schedule_id, ctx, "change", as_admin)
            schedule.change(given, self.clock(), ctx.actor.ref, ctx.correlation_id)
            if "recipients" in given:
                self._not_ours(uow, schedule.recipients)
            return [schedule]

        return self._result(run(self.app, schedule_id, decide, expected_version))

    def delete(self, schedule_id: UUID, ctx: Context, as_admin: bool = False) -> CommandResult:
        def decide(uow: UnitOfWork) -> list[Any]:
            schedule = self._changeable(uow, schedule_id, ctx, "delete", as_admin)
            schedule.delete(ctx.actor.ref, ctx.correlation_id)
            return [schedule]

        return self._result(run(self.app, schedule_id, decide))

    def _not_ours(self, uow: UnitOfWork, recipients: list[str]) -> None:
        """No recipient is an address of ours (mail to it would come back in as a ticket)."""
        for index, address in enumerate(recipients):
            if self.mail_out.is_ours(uow, address):
                raise InvalidValueError(
                    f"recipients[{index}]", f"{address} is one of ledgerdesk's own addresses"
                )

    def _changeable(
        self, uow: UnitOfWork, schedule_id: UUID, ctx: Context, what: str, as_admin: bool
    ) -> ReportSchedule:
        user = _staff(uow, ctx, f"{what} report schedules")
        schedule = uow.get(schedule_id, ReportSchedule)
        mine = schedule is not None and schedule.owner == str(user.id)
        if schedule is None or schedule.deleted or not (mine or user.is_admin):
            raise ReportScheduleNotFoundError(str(schedule_id))
        if not mine and not as_admin:
            raise PermissionDeniedError(f"only its owner or an admin may {what} this schedule")
        return schedule

    def _result(self, done: tuple[list[Any], int]) -> CommandResult:
        saved, position = done
        schedule = saved[0]
        return CommandResult(
            id=schedule.id, number=None, version=schedule.version, position=position
        )

    # --- runs ------------------------------------------------------------------------

    def run_due(self, schedule_id: UUID, make: Maker) -> str:
        """Make and mail the schedule's due period, once: what became of it (`nothing due`,
        `busy` when another run holds it, `sent`, `retrying`, `failed`, or `settled` when
        the run lost its hold before it was recorded)."""
        now = self.clock()
        uow = UnitOfWork(self.app)
        schedule = uow.get(schedule_id, ReportSchedule)
        period = schedule.due(now) if schedule is not None else None
        if schedule is None or period is None:
            return "nothing due"
        attempt = self._start(schedule_id, period, now)
        if not attempt:
            return "busy"
        try:
            report, owner = self._runnable(UnitOfWork(self.app), schedule)
            if not self.mail_out.configured():
                raise NotYetError("no SMTP server is configured: the report cannot be mailed")
            made = make(schedule, report, owner, period)
            limit = self.mail_out.config.attach_limit
            if len(made.data) > limit:
                raise ReportUnavailableError(
                    f"the report's file is {len(made.data):,} bytes, more than the"
                    f" {limit:,} a mail may carry (LEDGERDESK_MAX_MAIL_ATTACHMENT_BYTES)"
                )
            sha256, size = self.blobs.put(io.BytesIO(made.data), MAX_FILE_BYTES)
        except Exception as failure:
            if isinstance(failure, DomainError | NotYetError):
                error, retry = str(failure), isinstance(failure, NotYetError)
            else:  # The details are for the log, not for the mail that tells the owner.
                log.exception("scheduled report %s (%s) not made", schedule_id, period)
                error, retry = UNEXPECTED, True
            return self._failed(schedule_id, period, attempt, error, retry)
        about: dict[str, Any] = {
            "report": {
                "name": report.name,
                "title": made.title,
                "days": made.days,
                "period": made.period,
                "group_by": made.group_by,
                "file": made.file_name,
                "owner": owner.name,
            },
            "attachment": {
                "name": made.file_name,
                "media_type": made.media_type,
                "sha256": sha256,
                "size": size,
            },
        }

        outcome = ["sent"]

        def decide(uow: UnitOfWork) -> list[Any]:
            current = uow.get(schedule_id, ReportSchedule)
            outcome[0] = "sent"
            if current is None or not current.runs(period, attempt):
                return []  # It lost its hold: given up, changed or deleted meanwhile.
            mails = self.mail_out.report_mails(
                uow, schedule_id, utc_text(period), {**about, "recipients": current.recipients}
            )
            if not mails:  # Every recipient became an address of ours since.
                error = "no recipient to mail: each is one of ledgerdesk's own addresses"
                current.failed(period, error, now, RUN_ACTOR, _key(current, period), False)
                outcome[0] = "failed"
                return [current]
            made_file = {**about["attachment"], "days": made.days}
            recipients = [m.recipient for m in mails]
            current.sent(
                period, {**made_file, "recipients": recipients}, RUN_ACTOR, _key(current, period)
            )
            return [current, *mails]

        saved, _ = run(self.app, schedule_id, decide)
        return outcome[0] if saved else "settled"

    def _start(self, schedule_id: UUID, period: datetime, now: datetime) -> int:
        """Hold `period` for this run: its attempt's number, or 0 (another run holds it,
        it is no longer due, or the run that held it never finished: recorded as failed)."""
        started = [0]

        def decide(uow: UnitOfWork) -> list[Any]:
            current = uow.get(schedule_id, ReportSchedule)
            started[0] = 0
            if current is None or current.due(now) != period:
                return []
            started[0] = current.start(period, now, RUN_ACTOR, _key(current, period))
            return [current]

        run(self.app, schedule_id, decide)
        return started[0]

    def _runnable(self, uow: UnitOfWork, schedule: ReportSchedule) -> tuple[SavedView, User]:
        """The saved report and its owner, if the run can be made at all."""
        report = uow.get(UUID(schedule.report_id), SavedView)
        if report is None or report.deleted or report.kind != "report":
            raise ReportUnavailableError("the saved report was deleted")
        owner = uow.find_user(UUID(schedule.owner))
        if owner is None or not owner.is_active:
            raise ReportUnavailableError("the schedule's owner is no longer an active user")
        if not may_see(uow, report, owner):
            raise ReportUnavailableError("the schedule's owner may no longer see the report")
        return report, owner

    def _failed(
        self, schedule_id: UUID, period: datetime, attempt: int, error: str, retry: bool
    ) -> str:
        now = self.clock()
        outcome = ["settled"]

        def decide(uow: UnitOfWork) -> list[Any]:
            current = uow.get(schedule_id, ReportSchedule)
            outcome[0] = "settled"
            if current is None or not current.runs(period, attempt):
                return []
            gave_up = current.failed(period, error, now, RUN_ACTOR, _key(current, period), retry)
            outcome[0] = "failed" if gave_up else "retrying"
            return [current]

        run(self.app, schedule_id, decide)
        return outcome[0]


def _key(schedule: ReportSchedule, period: datetime) -> str:
    return f"report:{schedule.id}:{utc_text(period)}"
