"""CSV import of timesheets: every row checked first, then all of them in one write.

Columns (a header row names them; order is free): `item` (a ticket's or task's number),
`user_email`, `date` (YYYY-MM-DD), `hours` (a decimal such as `1.5` or `1,5`, or `H:MM`
such as `1:30`), and optionally `billable` (true/false, yes/no, 1/0; default true),
`activity`, `notes`. A file with any bad row appends nothing, and every problem is
reported with its row and column. An entry's id is derived from its row (and how many
identical rows came before it in the file), so importing the same file again finds its
entries and creates no duplicates.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from commands.application import LedgerDesk
from commands.errors import TaskNotFoundError, TicketNotFoundError
from commands.models import Context
from commands.tickets import require_visible
from commands.timesheets import (
    APPROVERS,
    LOGGERS,
    count_on_item,
    item_of,
    project_role,
    require_logger,
)
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.errors import DomainError, PermissionDeniedError
from domain.task import Task
from domain.ticket import Ticket
from domain.timesheet import Source, TimesheetEntry, check_time
from domain.user import User, user_id_for
from domain.values import Actor

IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/timesheet-import")
REQUIRED = ("item", "user_email", "date", "hours")
OPTIONAL = ("billable", "activity", "notes")
MAX_ROWS = 100_000
_HOURS_MINUTES = re.compile(r"^(\d{1,2}):([0-5]\d)$")
_TRUE = {"true", "yes", "y", "1", ""}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class Problem:
    row: int  # 1 is the header; data rows start at 2, as a spreadsheet numbers them.
    column: str
    message: str


class ImportRejectedError(DomainError):
    """Raised with every problem a file has; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            f"{len(problems)} problem(s); nothing was imported. First: row {first.row},"
            f" {first.column}: {first.message}"
        )
        self.problems = problems


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


def parse_hours(text: str) -> int:
    """Minutes from `1.5`, `1,5` or `1:30`."""
    text = text.strip()
    match = _HOURS_MINUTES.match(text)
    if match:
        return int(match.group(1)) * 60 + int(match.group(2))
    wrong = ValueError("hours are a decimal (1.5) or H:MM (1:30), up to 24")
    if len(text) > 20:
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
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejectedError([Problem(1, "file", "the file is not UTF-8 text")]) from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as error:
        raise ImportRejectedError([Problem(1, "file", f"not a CSV file: {error}")]) from None
    problems = [Problem(1, c, "missing column") for c in REQUIRED if c not in header]
    problems += [
        Problem(1, c, f"unknown column; known: {', '.join(REQUIRED + OPTIONAL)}")
        for c in header
        if c not in REQUIRED + OPTIONAL
    ]
    problems += [
        Problem(1, c, "this column is named twice") for c in set(header) if header.count(c) > 1
    ]
    if problems:
        raise ImportRejectedError(problems)
    rows: list[Row] = []
    count = 0
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # e.g. a field longer than the csv module allows
            raise ImportRejectedError(
                [Problem(reader.line_num, "file", f"the file cannot be read here: {error}")]
            ) from None
        line = reader.line_num  # The physical line (blank lines count, as editors show).
        count += 1
        if count > MAX_ROWS:
            raise ImportRejectedError([Problem(line, "file", f"more than {MAX_ROWS} rows")])
        if None in raw:
            problems.append(
                Problem(line, "file", "more fields than columns (a comma in a value needs quotes)")
            )
            continue
        values = {k.strip(): (v or "").strip() for k, v in raw.items()}
        row = _row(line, values, problems)
        if row is not None:
            rows.append(row)
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
    work_date = date.min
    try:
        work_date = date.fromisoformat(values["date"])
    except ValueError:
        bad("date", "a date as YYYY-MM-DD")
    minutes = 0
    try:
        minutes = parse_hours(values["hours"])
        check_time(work_date if work_date != date.min else date(2000, 1, 1), minutes, None, None)
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
    if len(problems) > found:
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


def import_rows(
    rows: list[Row], uow: UnitOfWork, ctx: Context, found: list[Problem]
) -> tuple[list[Any], int]:
    """Check every row against the data, then log all of them, or raise with every
    problem (`found` already, and these). Returns what to save and how many are new.

    A row's item must be one the importer may see (else it is reported as not found,
    whether or not it exists); the importer logs their own time where they may log time,
    and anyone's where they manage or lead the project; the person whose time it is must
    be able to log time there too."""
    importer = acting_user(uow, ctx)
    problems: list[Problem] = list(found)
    checked: list[tuple[Row, User, Ticket | Task]] = []
    for row in rows:
        problem = _check(row, uow, ctx, importer)
        if isinstance(problem, Problem):
            problems.append(problem)
        else:
            checked.append((row, *problem))
    if problems:
        raise ImportRejectedError(sorted(problems, key=lambda p: (p.row, p.column)))
    user_ids = {row.user_email: user.id for row, user, _ in checked}
    changed: dict[UUID, Any] = {}
    new = 0
    for (row, user, item), entry_id in zip(
        checked, entry_ids([r for r, _, _ in checked], user_ids), strict=True
    ):
        if uow.get(entry_id, TimesheetEntry) is not None:
            continue  # Imported before.
        entry = TimesheetEntry.log(
            entry_id=entry_id,
            user_id=user.id,
            item_number=item.number,
            project_id=item.project_id,
            work_date=row.work_date,
            minutes=row.minutes,
            billable=row.billable,
            activity=row.activity,
            notes=row.notes,
            source=Source.IMPORT,
            actor=ctx.actor,
            correlation_id=ctx.correlation_id,
        )
        changed[entry.id] = entry
        for touched in count_on_item(entry, uow, ctx):
            changed[touched.id] = touched
        new += 1
    return list(changed.values()), new


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


def import_csv(app: LedgerDesk, content: bytes, ctx: Context) -> tuple[int, int, int]:
    """Import a timesheet CSV in one atomic write: (log position, new entries, rows)."""
    rows, problems = read_rows(content)
    counted: dict[str, int] = {}

    def decide(uow: UnitOfWork) -> list[Any]:
        aggregates, counted["new"] = import_rows(rows, uow, ctx, problems)
        return aggregates

    # Imports take turns in this process (and retry on a conflict with another).
    _, position = run(app, IMPORT_NAMESPACE, decide)
    return position, counted["new"], len(rows) + len(problems)
