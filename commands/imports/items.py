"""CSV import of tickets and tasks, in two passes over the file, neither of which holds it
(or its rows) whole.

1. **Check** every row — on its own (`domain.item_import`), against the data with the
   importer's rights (`commands.imports.item_checks`), and by deciding its writes as the
   importer without saving them — a batch at a time. A file with any problem writes
   nothing, and every problem is reported with its row and column (the file's own header
   name, where a mapping renamed it).
2. **Write** the items in batches (see `commands.imports.staging`), each row checked
   again just before, by `import:<import id>`; each batch shows once written.

Each row's item is keyed by its external id (or what the row says and how many identical
rows came before it): an `ImportedItem` per key, saved with the item, makes importing the
same file again (or any file naming the same external ids) add nothing. A row's
`created_at` is kept as its item's reported date."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from commands.application import LedgerDesk
from commands.imports.csv_files import Columns, ImportRejectedError, Problem, read_csv
from commands.imports.item_checks import Checker, Places, Unit, column_of
from commands.imports.staging import (
    BATCH_UNITS,
    Imported,
    ImportInterruptedError,
    Staged,
    stage_batch,
)
from commands.models import Context, OpenTask, OpenTicket
from commands.tasks import open_task
from commands.tickets import open_ticket
from commands.unit_of_work import UnitOfWork, run
from commands.workflow.statuses import lifecycle_of_item
from domain.errors import DomainError, PermissionDeniedError
from domain.imports import Import, import_id
from domain.item_import import (
    OPTIONAL,
    REQUIRED,
    ImportedItem,
    ItemRow,
    RowKeys,
    check_row,
    imported_item_id,
)
from domain.values import Actor, Channel, Priority

KIND = "items"
MAX_ROWS = 100_000
COLUMNS = Columns(REQUIRED, OPTIONAL, MAX_ROWS)
T = TypeVar("T")
# Opens the file again, from its start, for each pass.
Source = Callable[[], Iterable[bytes]]


class ImportStoppedError(ImportRejectedError):
    """A row that passed the checks could not be written (the data changed meanwhile):
    the batches before it are written, the rest not."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        first = problems[0]
        self.args = (
            f"the import stopped at row {first.row} ({first.column}: {first.message}); the"
            " rows before it were imported: send the file again once it is mended",
        )


@dataclass(frozen=True)
class ItemImport:
    rows: int
    created: dict[str, int]  # by kind: what this import made (or would, in a dry run)
    existing: int  # rows whose item was made before
    imported: Imported | None  # None for a dry run


@dataclass
class _Tally:
    rows: int = 0
    created: dict[str, int] = field(default_factory=lambda: {"ticket": 0, "task": 0})
    existing: int = 0


def make_item(unit: Unit, uow: UnitOfWork, ctx: Context, import_ref: UUID) -> list[Any]:
    """The row's item, as `ctx` writes it, and its index entry; the aggregates to save
    (kept in `uow`, so that the next row's item takes the next number)."""
    row = unit.row
    if row.kind == "ticket":
        made = open_ticket(
            OpenTicket(
                title=row.title, project_id=unit.project_id, folder_id=unit.folder_id,
                description=row.description, priority=Priority(row.priority),
                requester_email=row.requester_email, channel=Channel.IMPORT,
                item_type=unit.item_type,
            ),
            uow, ctx,
        )  # fmt: skip
    else:
        made = open_task(
            OpenTask(
                title=row.title, project_id=unit.project_id, folder_id=unit.folder_id,
                description=row.description, priority=Priority(row.priority),
                requester_email=row.requester_email, start=row.start, finish=row.finish,
                points=row.points,
            ),
            uow, ctx,
        )  # fmt: skip
    uow.keep(made)
    item = made[-1]
    actor, correlation = ctx.actor, ctx.correlation_id
    if unit.status:
        item.change_status(unit.status, actor, correlation, lifecycle_of_item(uow, item))
    for user_id in unit.assignees:
        item.assign(user_id, actor, correlation)
    if unit.team_id is not None:
        item.assign_team(unit.team_id, actor, correlation)
    if row.created_at:
        item.record_reported(row.created_at, actor, correlation)
    index = ImportedItem.record(
        key=unit.key, number=item.number, kind=row.kind, import_id=import_ref,
        actor=actor.ref, correlation_id=correlation,
    )  # fmt: skip
    return [*made, index]


def _problem(unit: Unit, error: DomainError) -> Problem:
    fallback = "project" if isinstance(error, PermissionDeniedError) else "file"
    return Problem(unit.row.line, column_of(error, fallback), str(error))


def _importing(import_ref: UUID, ctx: Context) -> Context:
    return Context(actor=Actor("import", str(import_ref)), correlation_id=ctx.correlation_id)


def _batches(found: Iterator[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for one in found:
        batch.append(one)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _File:
    """One pass over the file: its rows checked on their own, with their keys (problems
    into `problems`), its bytes hashed as they stream."""

    def __init__(self, source: Iterable[bytes], rename: dict[str, str]) -> None:
        self.source, self.rename = source, rename
        self.digest = hashlib.sha256()
        self.tally = _Tally()

    def rows(self, problems: list[Problem]) -> Iterator[tuple[ItemRow, str]]:
        now, keys = datetime.now(UTC), RowKeys()
        for line, values in read_csv(self._hashed(), COLUMNS, problems, self.rename):
            self.tally.rows += 1
            row, found = check_row(line, values, now)
            problems += [Problem(line, p.column, p.message) for p in found]
            if row is not None:
                yield row, keys.key(row)
        if not self.tally.rows:
            problems.append(Problem(2, "file", "the file has no rows"))

    def _hashed(self) -> Iterator[bytes]:
        for chunk in self.source:
            self.digest.update(chunk)
            yield chunk


def _checked(
    app: LedgerDesk, batch: list[tuple[ItemRow, str]], ctx: Context, places: Places,
    problems: list[Problem],
) -> list[Unit]:  # fmt: skip
    """A batch of rows checked against the data (a checker of its own: what changed since
    the last batch counts)."""
    checker = Checker(UnitOfWork(app), ctx, places)
    return [u for row, key in batch if (u := checker.unit(row, key, problems)) is not None]


def _fresh(units: Sequence[Unit], uow: UnitOfWork, problems: list[Problem]) -> list[Unit]:
    """The units whose item no import made yet; a key made before as another kind of item
    is a problem."""
    made = uow.get_many([imported_item_id(u.key) for u in units], ImportedItem)
    fresh = []
    for unit in units:
        found = made.get(imported_item_id(unit.key))
        if found is None:
            fresh.append(unit)
        elif found.kind != unit.row.kind:
            said = f"{unit.row.external_id!r} was imported as {found.kind} #{found.number}"
            problems.append(Problem(unit.row.line, "kind", said))
    return fresh


def check_file(
    app: LedgerDesk, source: Source, ctx: Context, places: Places, rename: dict[str, str]
) -> tuple[_Tally, str]:
    """Pass 1: every row checked, and its writes decided as the importer without saving
    them; the tally and the file's SHA-256, or raise with every problem."""
    problems: list[Problem] = []
    file = _File(source(), rename)
    external: dict[str, int] = {}  # external id -> the row that named it first
    for batch in _batches(file.rows(problems), BATCH_UNITS):
        for row, _ in batch:
            first = external.setdefault(row.external_id, row.line) if row.external_id else None
            if first is not None and first != row.line:
                problems.append(Problem(row.line, "external_id", f"also on row {first}"))
        units = _checked(app, batch, ctx, places, problems)
        scratch = UnitOfWork(app)
        fresh = _fresh(units, scratch, problems)
        file.tally.existing += len(units) - len(fresh)
        for unit in fresh:
            try:
                make_item(unit, scratch, ctx, UUID(int=0))  # as the importer, not saved
            except DomainError as error:
                problems.append(_problem(unit, error))
            else:
                file.tally.created[unit.row.kind] += 1
    if problems:
        raise ImportRejectedError(_named(problems, rename))
    return file.tally, file.digest.hexdigest()


def _named(problems: list[Problem], rename: dict[str, str]) -> list[Problem]:
    """The problems in the file's order, each naming the file's own header for a column
    a mapping renamed."""
    header = {column: name for name, column in rename.items()}
    named = [Problem(p.row, header.get(p.column, p.column), p.message) for p in problems]
    return sorted(named, key=lambda p: (p.row, p.column))


class ItemStaging:
    """Rows as items, written by the import (each batch shows once written)."""

    kind = KIND

    def size(self, unit: Unit) -> int:
        return 2_000 + len(unit.row.description.encode())

    def stage(
        self, uow: UnitOfWork, imp: Import, batch: Sequence[Unit], ctx: Context
    ) -> Staged[Unit]:
        staged: Staged[Unit] = Staged()
        written: dict[UUID, Any] = {}
        writer = _importing(imp.id, ctx)
        problems: list[Problem] = []
        for unit in _fresh(batch, uow, problems):
            try:
                made = make_item(unit, uow, writer, imp.id)
            except DomainError as error:
                raise ImportStoppedError([_problem(unit, error)]) from None
            written.update((aggregate.id, aggregate) for aggregate in made)
            staged.claimed.append(unit)
        if problems:
            raise ImportStoppedError(problems)
        staged.aggregates = list(written.values())
        return staged

    def complete(
        self, uow: UnitOfWork, imp: Import, claimed: Sequence[Unit], ctx: Context
    ) -> list[Any]:
        return []


def write_file(
    app: LedgerDesk,
    source: Source,
    ctx: Context,
    places: Places,
    rename: dict[str, str],
    sha256: str,
    rows: int,
    stopping: threading.Event,
) -> tuple[Imported, dict[str, int]]:
    """Pass 2: the rows checked again, batch by batch, and written; what this run wrote."""
    ref = import_id(KIND, ctx.actor.ref, sha256)
    found = UnitOfWork(app).get(ref, Import)
    if found is not None and found.completed:
        return Imported(ref, app.head(), 0), {"ticket": 0, "task": 0}
    job = ItemStaging()
    made = {"ticket": 0, "task": 0}  # (counted, not kept: the rows go by in batches)
    problems: list[Problem] = []
    for batch in _batches(_File(source(), rename).rows(problems), BATCH_UNITS):
        if stopping.is_set():
            raise ImportInterruptedError(ref)
        units = _checked(app, batch, ctx, places, problems)
        if problems:
            raise ImportStoppedError(_named(problems, rename))
        for unit in stage_batch(app, job, ref, units, sha256, rows, ctx):
            made[unit.row.kind] += 1
    written = sum(made.values())

    def complete(uow: UnitOfWork) -> list[Any]:
        imp = uow.get(ref, Import)
        if imp is None or imp.completed:
            return []  # Nothing written, or completed by another process meanwhile.
        imp.complete(written, ctx.actor, ctx.correlation_id)
        return [imp]

    saved, position = run(app, ref, complete)
    return Imported(ref, position, written if saved else 0), made


def import_items(
    app: LedgerDesk,
    source: Source,
    ctx: Context,
    places: Places,
    stopping: threading.Event,
    *,
    rename: dict[str, str] | None = None,
    dry_run: bool = False,
) -> ItemImport:
    """Check every row, then (unless a dry run) write the items of this file — or find
    them written by an earlier import."""
    rename = rename or {}
    tally, sha256 = check_file(app, source, ctx, places, rename)
    if dry_run:
        return ItemImport(tally.rows, tally.created, tally.existing, None)
    imported, made = write_file(app, source, ctx, places, rename, sha256, tally.rows, stopping)
    return ItemImport(tally.rows, made, tally.rows - sum(made.values()), imported)


class ItemImportService:
    """Imports tickets and tasks from CSV (see the module)."""

    def __init__(self, app: LedgerDesk, stopping: threading.Event) -> None:
        self.app = app
        self.stopping = stopping

    def import_csv(
        self,
        source: Source,
        ctx: Context,
        places: Places,
        rename: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> ItemImport:
        """`source` opens the file from its start (it is read twice: checked, then
        written)."""
        if ctx.actor.kind not in ("user", "system"):
            raise PermissionDeniedError("only staff import items")
        return import_items(
            self.app, source, ctx, places, self.stopping, rename=rename, dry_run=dry_run
        )
