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
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.imports.csv_files import Columns, ImportRejectedError, Problem, read_csv
from commands.imports.item_checks import Checker, Places, Unit, column_of
from commands.imports.progress import Progress, quiet
from commands.imports.staging import (
    BATCH_BYTES,
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
MAX_PROBLEMS = 1_000  # reported at once (then "and more")
MORE = "and more: mend these first"
# Opens the file again, from its start, for each pass.
Source = Callable[[], Iterable[bytes]]


class ImportStoppedError(ImportRejectedError):
    """A row that passed the checks could not be written (the data changed meanwhile):
    the batches before its batch are written, the rest not."""

    def __init__(self, import_ref: UUID, problems: list[Problem], written: int = 0) -> None:
        super().__init__(problems)
        first = problems[0]
        self.import_id = import_ref
        self.written = written
        self.args = (
            f"the import stopped at row {first.row} ({first.column}: {first.message});"
            f" {written} item(s) of the batches before its batch were imported: send the"
            " file again once it is mended to import the rest",
        )


@dataclass(frozen=True)
class ItemImport:
    rows: int
    created: dict[str, int]  # by kind: what this import made (or would, in a dry run)
    existing: int  # rows whose item was made before
    imported: Imported | None  # None for a dry run, or when nothing was left to write


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


ROW_BYTES = 2_000  # about what a row's item and its events take, beside its text


def _size(pair: tuple[ItemRow, str]) -> int:
    row = pair[0]
    return ROW_BYTES + len(row.description.encode()) + len(row.title.encode())


def _batches(found: Iterator[tuple[ItemRow, str]]) -> Iterator[list[tuple[ItemRow, str]]]:
    """Rows in batches of at most `BATCH_UNITS` rows and about `BATCH_BYTES` (the same
    batches in both passes)."""
    batch: list[tuple[ItemRow, str]] = []
    total = 0
    for one in found:
        batch.append(one)
        total += _size(one)
        if len(batch) >= BATCH_UNITS or total >= BATCH_BYTES:
            yield batch
            batch, total = [], 0
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
            if _enough(problems):
                problems.append(Problem(line + 1, "file", MORE))
                return
            if row is not None:
                yield row, keys.key(row)
        if not self.tally.rows:
            problems.append(Problem(2, "file", "the file has no rows"))

    def _hashed(self) -> Iterator[bytes]:
        for chunk in self.source:
            self.digest.update(chunk)
            yield chunk


def _new(
    batch: list[tuple[ItemRow, str]], uow: UnitOfWork, problems: list[Problem]
) -> list[tuple[ItemRow, str]]:
    """The rows whose item no import made yet (those made before are not checked again);
    a key made before as another kind of item is a problem."""
    made = uow.get_many([imported_item_id(key) for _, key in batch], ImportedItem)
    fresh = []
    for row, key in batch:
        found = made.get(imported_item_id(key))
        if found is None:
            fresh.append((row, key))
        elif found.kind != row.kind:
            said = f"{row.external_id!r} was imported as {found.kind} #{found.number}"
            problems.append(Problem(row.line, "kind", said))
    return fresh


def _rehearsed(
    app: LedgerDesk, batch: list[tuple[ItemRow, str]], ctx: Context, places: Places,
    problems: list[Problem], tally: _Tally,
) -> None:  # fmt: skip
    """A batch's new rows checked against the data (a checker of its own: what changed
    since the last batch counts), and their writes decided as the importer, not saved."""
    scratch = UnitOfWork(app)
    fresh = _new(batch, scratch, problems)
    tally.existing += len(batch) - len(fresh)
    checker = Checker(scratch, ctx, places)
    for row, key in fresh:
        unit = checker.unit(row, key, problems)
        if unit is None:
            continue
        try:
            make_item(unit, scratch, ctx, UUID(int=0))
        except DomainError as error:
            problems.append(_problem(unit, error))
        else:
            tally.created[row.kind] += 1


def _enough(problems: list[Problem]) -> bool:
    """Whether to stop reading: this many problems are enough to be going on with."""
    return len(problems) >= MAX_PROBLEMS


def check_file(
    app: LedgerDesk, source: Source, ctx: Context, places: Places, rename: dict[str, str],
    stopping: threading.Event, progress: Progress = quiet,
) -> tuple[_Tally, str]:  # fmt: skip
    """Pass 1: every row checked, and its writes decided as the importer without saving
    them; the tally and the file's SHA-256, or raise with every problem (the first
    `MAX_PROBLEMS`)."""
    problems: list[Problem] = []
    file = _File(source(), rename)
    external: dict[str, int] = {}  # external id -> the row that named it first
    try:
        for batch in _batches(file.rows(problems)):
            if stopping.is_set():
                raise ImportInterruptedError(UUID(int=0), "nothing of it was written")
            for row, _ in batch:
                first = external.setdefault(row.external_id, row.line) if row.external_id else 0
                if first and first != row.line:
                    problems.append(Problem(row.line, "external_id", f"also on row {first}"))
            _rehearsed(app, batch, ctx, places, problems, file.tally)
            progress("checking", file.tally.rows, None)
            if _enough(problems):
                if problems[-1].message != MORE:
                    problems.append(Problem(batch[-1][0].line + 1, "file", MORE))
                break
    except ImportRejectedError as unreadable:  # The file itself (its header, a quote ...)
        raise ImportRejectedError(_named(unreadable.problems, rename)) from None
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
    """Rows as items, each checked again with the importer's rights in the write that
    makes it, then written by the import (each batch shows once written)."""

    kind = KIND

    def __init__(self, places: Places) -> None:
        self.places = places

    def size(self, unit: Unit) -> int:
        return _size((unit.row, unit.key))

    def stage(
        self, uow: UnitOfWork, imp: Import, batch: Sequence[Unit], ctx: Context
    ) -> Staged[Unit]:
        staged: Staged[Unit] = Staged()
        written: dict[UUID, Any] = {}
        writer = _importing(imp.id, ctx)
        problems: list[Problem] = []
        checker = Checker(uow, ctx, self.places)
        for row, key in _new([(u.row, u.key) for u in batch], uow, problems):
            unit = checker.unit(row, key, problems)
            if unit is None:
                break
            try:
                made = make_item(unit, uow, writer, imp.id)
            except DomainError as error:
                problems.append(_problem(unit, error))
                break
            written.update((aggregate.id, aggregate) for aggregate in made)
            staged.claimed.append(unit)
        if problems:
            raise ImportStoppedError(imp.id, problems)
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
    progress: Progress = quiet,
) -> tuple[Imported | None, dict[str, int]]:
    """Pass 2: the rows written, batch by batch, each checked again in its write; what
    this run wrote (None: nothing was left to write, and no import was recorded)."""
    ref = import_id(KIND, ctx.actor.ref, sha256)
    found = UnitOfWork(app).get(ref, Import)
    if found is not None and found.completed:
        return Imported(ref, app.head(), 0), {"ticket": 0, "task": 0}
    job = ItemStaging(places)
    made = {"ticket": 0, "task": 0}  # (counted, not kept: the rows go by in batches)
    problems: list[Problem] = []
    file = _File(source(), rename)
    try:
        for batch in _batches(file.rows(problems)):
            if stopping.is_set():
                raise ImportInterruptedError(ref, "the batches written so far show")
            if problems:  # (Read on its own again: the same file has none)
                raise ImportStoppedError(ref, problems)
            units = [Unit(row, key, None, None, None, (), None, None) for row, key in batch]
            for unit in stage_batch(app, job, ref, units, sha256, rows, ctx):
                made[unit.row.kind] += 1
            progress("writing", file.tally.rows, rows)
    except ImportStoppedError as stopped:
        named = _named(stopped.problems, rename)
        raise ImportStoppedError(ref, named, sum(made.values())) from None
    if file.digest.hexdigest() != sha256:
        raise ImportStoppedError(
            ref, [Problem(1, "file", "the file changed while it was imported")], sum(made.values())
        )
    written = sum(made.values())

    def complete(uow: UnitOfWork) -> list[Any]:
        imp = uow.get(ref, Import)
        if imp is None or imp.completed:
            return []  # Nothing written, or completed by another process meanwhile.
        imp.complete(written, ctx.actor, ctx.correlation_id)
        return [imp]

    saved, position = run(app, ref, complete)
    if not saved and UnitOfWork(app).get(ref, Import) is None:
        return None, made
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
    progress: Progress = quiet,
) -> ItemImport:
    """Check every row, then (unless a dry run) write the items of this file — or find
    them written by an earlier import."""
    rename = rename or {}
    tally, sha256 = check_file(app, source, ctx, places, rename, stopping, progress)
    if dry_run:
        return ItemImport(tally.rows, tally.created, tally.existing, None)
    imported, made = write_file(
        app, source, ctx, places, rename, sha256, tally.rows, stopping, progress
    )
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
        progress: Progress = quiet,
    ) -> ItemImport:
        """`source` opens the file from its start (it is read twice: checked, then
        written)."""
        if ctx.actor.kind not in ("user", "system"):
            raise PermissionDeniedError("only staff import items")
        return import_items(
            self.app, source, ctx, places, self.stopping, rename=rename, dry_run=dry_run,
            progress=progress,
        )  # fmt: skip
