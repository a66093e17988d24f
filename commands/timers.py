"""Timers: start, pause, resume, discard and stop; a stopped timer's time becomes an entry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from commands.models import Command, Context
from commands.timesheet_entries import LogTime, item_of, log_time, require_logger
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from domain.errors import PermissionDeniedError
from domain.timer import Timers, timers_id
from domain.timesheet import Source


class TimerCommand(Command):
    item: int = Field(ge=1)


class StopTimer(TimerCommand):
    keep_for_review: bool = False
    billable: bool = True
    activity: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=10_000)


def _timers(uow: UnitOfWork, ctx: Context) -> Timers:
    user = acting_user(uow, ctx)
    if user is None:
        raise PermissionDeniedError("timers belong to staff users")
    return uow.get(timers_id(user.id), Timers) or Timers(user_id=str(user.id))


def timer_action(
    action: str, cmd: TimerCommand, uow: UnitOfWork, ctx: Context, allow_several: bool
) -> list[Any]:
    timers = _timers(uow, ctx)
    now = datetime.now(UTC)
    if action != "start" and str(cmd.item) in timers.timers:
        number = cmd.item  # A timer keeps the number it was started on (even if converted).
    else:
        number = item_of(uow, cmd.item).number
    if action in ("start", "resume"):
        require_logger(item_of(uow, number), uow, ctx)
    if action == "discard":
        timers.stop(number, now, None, ctx.actor, ctx.correlation_id)
    elif action == "start":
        timers.start(number, now, allow_several, ctx.actor, ctx.correlation_id)
    elif action == "resume":
        timers.resume(number, now, allow_several, ctx.actor, ctx.correlation_id)
    elif action == "pause":
        timers.pause(number, now, ctx.actor, ctx.correlation_id)
    else:
        return stop_timer(timers, number, now, cmd, uow, ctx)
    return [timers]


def stop_timer(
    timers: Timers,
    number: int,
    now: datetime,
    cmd: TimerCommand,
    uow: UnitOfWork,
    ctx: Context,
) -> list[Any]:
    """End the timer; its time (whole minutes, at least one) becomes a timesheet entry
    dated today, submitted or, with `keep_for_review`, a draft."""
    seconds = timers.seconds(number, now)
    minutes = max(1, round(seconds / 60))
    options = cmd if isinstance(cmd, StopTimer) else StopTimer(item=number)
    logged = log_time(
        LogTime(
            item=number,
            work_date=now.date(),
            minutes=min(minutes, 24 * 60),
            billable=options.billable,
            activity=options.activity,
            notes=options.notes,
            draft=options.keep_for_review,
            source=Source.TIMER,
        ),
        uow,
        ctx,
    )
    timers.stop(number, now, logged[0].id, ctx.actor, ctx.correlation_id)
    return [timers, *logged]
