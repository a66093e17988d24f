"""CSV import of timesheets: every row checked first, then staged in batches, then shown at
once (see `commands.imports.staging`).

Columns (a header row names them; order is free): `item` (a ticket's or task's number),
`user_email`, `date` (YYYY-MM-DD), `hours` (a decimal such as `1.5` or `1,5`, or `H:MM`
such as `1:30`), and optionally `billable` (true/false, yes/no, 1/0; default true),
`activity`, `notes`. A file with any bad row appends nothing, and every problem is
reported with its row and column. An entry's id is derived from its row (and how many
identical rows came before it in the file), so importing the same file again finds its
entries and creates no duplicates, and another file with some of the same rows adds only
the others.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from commands.application import LedgerDesk
from commands.errors import TaskNotFoundError, TicketNotFoundError
from commands.imports.csv_files import Columns, ImportRejectedError, Problem, read_csv
from commands.imports.staging import Imported, Staged, is_staged, run_import
from commands.models import Context
from commands.tickets import require_visible
from commands.timesheet_entries import (
    APPROVERS,
    LOGGERS,
    item_of,
    project_role,
    require_logger,
)
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from commands.workflow.statuses import lifecycle_of_item
from domain.errors import DomainError, PermissionDeniedError
from domain.imports import Import
from domain.logged_time import record_imported_time
from domain.task import Task
from domain.ticket import Ticket
from domain.timesheet import Source, TimesheetEntry, check_time
from domain.user import User, user_id_for
from domain.values import Actor

IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/timesheet-import")
KIND = "timesheets"
REQUIRED = ("item", "user_email", "date", "hours")
OPTIONAL = ("billable", "activity", "notes")
MAX_ROWS = 100_000
COLUMNS = Columns(REQUIRED, OPTIONAL, MAX_ROWS)
_HOURS_MINUTES = re.compile(r"^([0-9]{1,2}):([0-5][0-9])$")
# ASCII digits only: no exponents, no other scripts' digits.
_DECIMAL_HOURS = re.compile(r"^-?[0-9]{1,3}([.,][0-9]{1,6})?$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TRUE = {"true", "yes", "y", "1", ""}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class Row:
    line: int
    item: int
    user_email: str
    work_date: date
    minutes: int
    billable: bool
    activity: str
    notes: str


@dataclass(frozen=True)
class Unit:
    """A checked row, ready to stage: whose time, on which item, as which entry."""

    row: Row
    entry_id: UUID
    user_id: UUID
    item: int  # the number the time goes to (a converted ticket's task)
    project_id: str


def parse_hours(text: str) -> int:
    """Minutes from `1.5`, `1,5` or `1:30`."""
    text = text.strip()
    match = _HOURS_MINUTES.match(text)
    if match:
        return int(match.group(1)) * 60 + int(match.group(2))
    wrong = ValueError("hours are a decimal (1.5) or H:MM (1:30), up to 24")
    if not _DECIMAL_HOURS.match(text):
        raise wrong
    try:
        hours = Decimal(text.replace(",", "."))
        if not hours.is_finite() or not -100 <= hours <= 100:
            raise wrong
        return int((hours * 60).to_integral_value())
    except ArithmeticError:  # decimal's InvalidOperation, Overflow, ...
        raise wrong from None


def read_rows(content: bytes) -> tuple[list[Row], list[Problem]]:
    """The file's good rows, and the problems of the others (each checked on its own, not
    yet against the data). A file whose header or text is wrong raises at once."""
    problems: list[Problem] = []
    rows = [
        row
        for line, values in read_csv(content, COLUMNS, problems)
        if (row := _row(line, values, problems)) is not None
    ]
    if not rows and not problems:
        raise ImportRejectedError([Problem(2, "file", "the file has no rows")])
    return rows, problems


def _row(line: int, values: dict[str, str], problems: list[Problem]) -> Row | None:
    found = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(Problem(line, column, message))

    item = 0
    if re.fullmatch(r"#?[0-9]{1,9}", values["item"]) and int(values["item"].lstrip("#")) >= 1:
        item = int(values["item"].lstrip("#"))
    else:
        bad("item", "an item number such as 1042")
    email = values["user_email"].lower()
    if "@" not in email:
        bad("user_email", "an email address")
    work_date: date | None = None
    try:
        if not _ISO_DATE.match(values["date"]):
            raise ValueError(values["date"])
        work_date = date.fromisoformat(values["date"])
    except ValueError:
        bad("date", "a date as YYYY-MM-DD")
    minutes = 0
    try:
        minutes = parse_hours(values["hours"])
        check_time(work_date or date(2000, 1, 1), minutes, None, None)
    except ValueError as error:
        bad("hours", str(error))
    except DomainError as error:
        bad("hours" if "minute" in str(error) or "hour" in str(error) else "date", str(error))
    billable_text = values.get("billable", "").lower()
    if billable_text not in _TRUE | _FALSE:
        bad("billable", "true or false")
    activity, notes = values.get("activity", ""), values.get("notes", "")
    if len(activity) > 100:
        bad("activity", "at most 100 characters")
    if len(notes) > 10_000:
        bad("notes", "at most 10,000 characters")
    if len(problems) > found or work_date is None:
        return None
    return Row(line, item, email, work_date, minutes, billable_text in _TRUE, activity, notes)


def entry_ids(rows: list[Row], user_ids: dict[str, UUID]) -> list[UUID]:
    """One id per row, from what the row says and how many identical rows came before it
    in the file: the same file maps to the same entries every time."""
    seen: dict[str, int] = {}
    ids = []
    for row in rows:
        key = "|".join(
            str(v)
            for v in (
                user_ids[row.user_email],
                row.item,
                row.work_date.isoformat(),
                row.minutes,
                row.billable,
                row.activity,
                row.notes,
            )
        )
        seen[key] = seen.get(key, 0) + 1
        ids.append(uuid5(IMPORT_NAMESPACE, f"{key}|{seen[key]}"))
    return ids


def check_rows(rows: list[Row], uow: UnitOfWork, ctx: Context, found: list[Problem]) -> list[Unit]:
    """Check every row against the data: the units to stage, or raise with every problem
    (`found` already, and these).

    A row's item must be one the importer may see (else it is reported as not found,
    whether or not it exists); the importer logs their own time where they may log time,
    and anyone's where they manage or lead the project; the person whose time it is must
    be able to log time there too."""
    importer = acting_user(uow, ctx)
    problems: list[Problem] = list(found)
    checked: list[tuple[Row, User, Ticket | Task]] = []
    # The answer depends only on the item and the person: asked once per pair.
    answers: dict[tuple[int, str], Problem | tuple[User, Ticket | Task]] = {}
    for row in rows:
        key = (row.item, row.user_email)
        if key not in answers:
            answers[key] = _check(row, uow, ctx, importer)
        answer = answers[key]
        if isinstance(answer, tuple):
            checked.append((row, *answer))
        else:
            problems.append(replace(answer, row=row.line))
    if problems:
        raise ImportRejectedError(sorted(problems, key=lambda p: (p.row, p.column)))
    user_ids = {row.user_email: user.id for row, user, _ in checked}
    ids = entry_ids([row for row, _, _ in checked], user_ids)
    return [
        Unit(row, entry_id, user.id, item.number, item.project_id)
        for (row, user, item), entry_id in zip(checked, ids, strict=True)
    ]


def _check(
    row: Row, uow: UnitOfWork, ctx: Context, importer: User | None
) -> Problem | tuple[User, Ticket | Task]:
    """The row's user and item, or the row's problem."""
    try:
        item = item_of(uow, row.item)
        require_visible(item, uow, ctx)
    except (TicketNotFoundError, TaskNotFoundError, PermissionDeniedError):
        return Problem(row.line, "item", f"no item #{row.item} that you may see")
    role = project_role(uow, ctx, item.project_id)
    own = importer is not None and importer.email == row.user_email
    if role not in APPROVERS and not (own and role in LOGGERS):
        return Problem(row.line, "user_email", "you may log only your own time here")
    user = uow.find_user(user_id_for(row.user_email))
    if user is None:
        return Problem(row.line, "user_email", "no staff user has this email")
    try:
        require_logger(item, uow, Context(actor=Actor.user(user.id), correlation_id="check"))
    except (TicketNotFoundError, TaskNotFoundError, PermissionDeniedError):
        return Problem(row.line, "user_email", f"{row.user_email} may not log time on #{row.item}")
    return user, item


class TimesheetStaging:
    """Timesheet rows as entries staged under the import; on completion, their time on
    their items (one `Ticket.TimeImported` per item)."""

    kind = KIND

    def size(self, unit: Unit) -> int:
        return 600 + len(unit.row.notes.encode()) + len(unit.row.activity.encode())

    def stage(
        self, uow: UnitOfWork, imp: Import, batch: Sequence[Unit], ctx: Context
    ) -> Staged[Unit]:
        found = uow.get_many([unit.entry_id for unit in batch], TimesheetEntry)
        staged: Staged[Unit] = Staged()
        written: dict[UUID, Any] = {}
        for unit in batch:
            entry = found.get(unit.entry_id)
            if entry is None:
                written[unit.entry_id] = _entry(unit, imp.id, ctx)
            elif entry.import_id == str(imp.id):
                pass  # Staged by an earlier run of this import.
            elif is_staged(uow, entry.import_id):
                # Staged by another import that has not completed (the same row in another
                # file): this one takes it over, and that one can never complete now.
                assert entry.import_id is not None
                other = uow.get(UUID(entry.import_id), Import)
                if other is not None:
                    other.abandon(imp.id, ctx.actor, ctx.correlation_id)
                    written[other.id] = other
                entry.restage(imp.id, ctx.actor, ctx.correlation_id)
                written[entry.id] = entry
            else:
                continue  # Logged before: by hand, a timer, or a completed import.
            staged.claimed.append(unit)
        staged.aggregates = list(written.values())
        return staged

    def complete(
        self, uow: UnitOfWork, imp: Import, claimed: Sequence[Unit], ctx: Context
    ) -> list[Any]:
        by_item: dict[int, dict[UUID, tuple[date, int]]] = {}
        for unit in claimed:
            by_item.setdefault(unit.item, {})[unit.entry_id] = (
                unit.row.work_date,
                unit.row.minutes,
            )
        items: dict[UUID, Any] = {}
        for number, counted in sorted(by_item.items()):
            item = item_of(uow, number)
            lifecycle = lifecycle_of_item(uow, item)
            record_imported_time(item, imp.id, counted, ctx.actor, ctx.correlation_id, lifecycle)
            items[item.id] = item
        return list(items.values())


def _entry(unit: Unit, import_ref: UUID, ctx: Context) -> TimesheetEntry:
    row = unit.row
    return TimesheetEntry.log(
        entry_id=unit.entry_id,
        user_id=unit.user_id,
        item_number=unit.item,
        project_id=unit.project_id,
        work_date=row.work_date,
        minutes=row.minutes,
        billable=row.billable,
        activity=row.activity,
        notes=row.notes,
        source=Source.IMPORT,
        import_id=import_ref,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


@dataclass(frozen=True)
class TimesheetImport:
    rows: int
    imported: Imported


def import_timesheets(
    app: LedgerDesk, content: bytes, ctx: Context, stopping: threading.Event
) -> TimesheetImport:
    """Check every row, then stage and complete the import of this file (or find it
    completed, or go on with it where an interrupted run stopped)."""
    rows, problems = read_rows(content)
    units = check_rows(rows, UnitOfWork(app), ctx, problems)
    sha256 = hashlib.sha256(content).hexdigest()
    imported = run_import(app, TimesheetStaging(), units, sha256, ctx, stopping)
    return TimesheetImport(len(rows) + len(problems), imported)
