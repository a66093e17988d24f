"""CSV import of tickets and tasks: every row checked first — on its own, then against the
data, then by deciding its writes without saving them — and only then written, in
batches (see `commands.imports.staging`).

Columns (a header row names them; order is free; a file's own names may be mapped to
them): `title`, and optionally `external_id`, `kind` (ticket or task), `item_type`,
`description`, `status`, `priority`, `requester_email`, `assignees` (emails, `;`
between), `team`, `project` (`Project` or `Customer/Project`), `folder`, `created_at`,
`start`, `finish`, `points` (`domain.item_import`). A file with any problem writes
nothing, and every problem is reported with its row and column. Each row's item is keyed
by its external id (or what the row says), so the same file imported again adds nothing.
The items are written by `import:<import id>`, after the importer's rights were checked
on every row; a row's `created_at` is kept as its item's reported date."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from commands.access import ProjectNotFoundError, load_project, manages_projects, role_in
from commands.application import LedgerDesk
from commands.company_settings import require_kind_on
from commands.imports.csv_files import Columns, ImportRejectedError, Problem, read_csv
from commands.imports.staging import Imported, Staged, run_import
from commands.models import Context, OpenTask, OpenTicket
from commands.tasks import open_task
from commands.tickets import (
    CREATORS,
    item_type_for,
    open_ticket,
    require_tasks_app,
    require_tickets_app,
)
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from commands.workflow.statuses import lifecycle_for, lifecycle_of_item
from domain.errors import DomainError, InvalidValueError, PermissionDeniedError
from domain.imports import Import, import_id
from domain.item_import import (
    OPTIONAL,
    REQUIRED,
    ImportedItem,
    ItemRow,
    check_row,
    imported_item_id,
    row_keys,
)
from domain.project import Project
from domain.team_names import TeamName, team_name_id
from domain.user import user_id_for
from domain.values import Actor, Channel, Priority

KIND = "items"
MAX_ROWS = 100_000
COLUMNS = Columns(REQUIRED, OPTIONAL, MAX_ROWS)
SIMULATED = 1_000  # rows decided per scratch unit of work, when checking


class Places(Protocol):
    """Projects and folders by name (read from the views by the caller)."""

    def project(self, path: str) -> list[str]: ...

    def folder(self, project_id: str, name: str) -> list[str]: ...


@dataclass(frozen=True)
class Unit:
    """A checked row, ready to write: where its item goes and who it names."""

    row: ItemRow
    key: str
    project_id: UUID | None
    folder_id: UUID | None
    team_id: UUID | None
    assignees: tuple[UUID, ...]
    item_type: str | None
    status: str | None


@dataclass(frozen=True)
class ItemImport:
    rows: int
    created: dict[str, int]  # by kind: what this import makes (or would, in a dry run)
    existing: int  # rows whose item an earlier import made
    imported: Imported | None  # None for a dry run


def read_rows(
    source: bytes | Iterable[bytes], rename: dict[str, str], now: datetime
) -> tuple[list[ItemRow], list[Problem]]:
    """The file's good rows, and the problems of the others (each checked on its own)."""
    problems: list[Problem] = []
    rows = []
    for line, values in read_csv(source, COLUMNS, problems, rename):
        row, found = check_row(line, values, now)
        problems += [Problem(line, p.column, p.message) for p in found]
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        raise ImportRejectedError([Problem(2, "file", "the file has no rows")])
    return rows, problems


class _Checker:
    """Checks rows against the data for one importer, asking each question once."""

    def __init__(self, uow: UnitOfWork, ctx: Context, places: Places) -> None:
        self.uow, self.ctx, self.places = uow, ctx, places
        self.importer = acting_user(uow, ctx)
        self.answers: dict[tuple[str, ...], Any] = {}

    def once(self, key: tuple[str, ...], ask: Any) -> Any:
        if key not in self.answers:
            try:
                self.answers[key] = ask()
            except DomainError as error:
                self.answers[key] = error
        found = self.answers[key]
        if isinstance(found, DomainError):
            raise found
        return found

    def kind(self, kind: str) -> None:
        def ask() -> None:
            require_kind_on(self.uow, kind)
            (require_tickets_app if kind == "ticket" else require_tasks_app)(self.importer)

        self.once(("kind", kind), ask)

    def project(self, path: str) -> UUID | None:
        if not path:
            return None

        def ask() -> UUID:
            seen = [p for p in map(self._project, self.places.project(path)) if p is not None]
            if not seen:
                raise InvalidValueError("project", f"no project {path!r} that you may see")
            if len(seen) > 1:
                raise InvalidValueError(
                    "project", f"{len(seen)} projects are named {path!r}: name its customer too"
                )
            project = seen[0]
            if not manages_projects(self.importer):
                assert self.importer is not None
                if role_in(self.uow, project, self.importer) not in CREATORS:
                    raise InvalidValueError(
                        "project", "your role in this project does not allow you to create items"
                    )
            return project.id

        result: UUID = self.once(("project", path), ask)
        return result

    def _project(self, project_id: str) -> Project | None:
        """The project, if the importer may see it."""
        try:
            project = load_project(self.uow, UUID(project_id), self.ctx)
        except ProjectNotFoundError:
            return None
        if manages_projects(self.importer):
            return project
        assert self.importer is not None
        return project if role_in(self.uow, project, self.importer) is not None else None

    def folder(self, project_id: UUID | None, name: str) -> UUID | None:
        if not name:
            return None
        if project_id is None:
            raise InvalidValueError("folder", "a folder is named within a project: name it too")

        def ask() -> UUID:
            found = self.places.folder(str(project_id), name)
            if len(found) != 1:
                said = "no folder" if not found else f"{len(found)} folders named"
                raise InvalidValueError("folder", f"{said} {name!r} in that project")
            return UUID(found[0])

        result: UUID = self.once(("folder", str(project_id), name), ask)
        return result

    def team(self, name: str) -> UUID | None:
        if not name:
            return None

        def ask() -> UUID:
            index = self.uow.get(team_name_id(name), TeamName)
            if index is None or index.team_id is None:
                raise InvalidValueError("team", f"no team {name!r}")
            return UUID(index.team_id)

        result: UUID = self.once(("team", name), ask)
        return result

    def user(self, email: str) -> UUID:
        def ask() -> UUID:
            user = self.uow.find_user(user_id_for(email))
            if user is None or not user.is_active:
                raise InvalidValueError("assignees", f"no active staff user {email}")
            return user.id

        result: UUID = self.once(("user", email), ask)
        return result

    def item_type(self, row: ItemRow) -> str | None:
        if not row.item_type:
            return None
        if row.kind == "task":
            if row.item_type != "task":
                raise InvalidValueError("item_type", "a task's item type is task")
            return None
        found: dict[str, Any] = self.once(
            ("type", row.item_type), lambda: item_type_for(self.uow, row.item_type, "ticket")
        )
        return str(found["key"])

    def status(self, row: ItemRow, item_type: str | None) -> str | None:
        if not row.status:
            return None
        kind_type = item_type or row.kind
        lifecycle = self.once(
            ("lifecycle", kind_type), lambda: lifecycle_for(self.uow, kind_type, row.kind)
        )
        wanted = row.status.casefold()
        for status in lifecycle.statuses:
            if status.name.casefold() == wanted:
                return str(status.name)
        names = ", ".join(s.name for s in lifecycle.statuses)
        raise InvalidValueError("status", f"no status {row.status!r} here; the statuses: {names}")


def _column(error: DomainError, fallback: str) -> str:
    field = getattr(error, "field", None)
    return field if isinstance(field, str) and field in (*REQUIRED, *OPTIONAL) else fallback


def check_rows(
    rows: list[ItemRow], uow: UnitOfWork, ctx: Context, places: Places, found: list[Problem]
) -> list[Unit]:
    """Check every row against the data: the units to write, or raise with every problem
    (`found` already, and these). A project the importer may not create items in, or
    may not see, is named as a problem of its row."""
    check = _Checker(uow, ctx, places)
    problems = list(found)
    units = []
    keys = row_keys(rows)
    for row, key in zip(rows, keys, strict=True):
        before = len(problems)

        def bad(column: str, error: DomainError, row: ItemRow = row) -> None:
            problems.append(Problem(row.line, _column(error, column), str(error)))

        values: dict[str, Any] = {}
        for column, ask in (
            ("kind", lambda row=row: check.kind(row.kind)),
            ("project", lambda row=row: check.project(row.project)),
            ("team", lambda row=row: check.team(row.team)),
            ("item_type", lambda row=row: check.item_type(row)),
        ):
            try:
                values[column] = ask()
            except DomainError as error:
                bad(column, error)
        try:
            values["folder"] = check.folder(values.get("project"), row.folder)
        except DomainError as error:
            bad("folder", error)
        try:
            values["status"] = check.status(row, values.get("item_type"))
        except DomainError as error:
            bad("status", error)
        assignees = []
        for email in row.assignees:
            try:
                assignees.append(check.user(email))
            except DomainError as error:
                bad("assignees", error)
        if len(problems) == before:
            units.append(
                Unit(
                    row,
                    key,
                    values["project"],
                    values["folder"],
                    values["team"],
                    tuple(assignees),
                    values["item_type"],
                    values["status"],
                )
            )
    if problems:
        raise ImportRejectedError(sorted(problems, key=lambda p: (p.row, p.column)))
    return units


def make_item(unit: Unit, uow: UnitOfWork, ctx: Context, import_ref: UUID) -> list[Any]:
    """The row's item, as `ctx` (the import) writes it, and its index entry; the
    aggregates to save."""
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
    uow.keep(made)  # The next row's item takes the next number
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


def _importing(import_ref: UUID, ctx: Context) -> Context:
    return Context(actor=Actor("import", str(import_ref)), correlation_id=ctx.correlation_id)


def _new(units: Sequence[Unit], uow: UnitOfWork) -> Iterator[Unit]:
    """The units whose item no import has made yet."""
    made = uow.get_many([imported_item_id(u.key) for u in units], ImportedItem)
    return (u for u in units if imported_item_id(u.key) not in made)


def rehearse(app: LedgerDesk, units: list[Unit], import_ref: UUID, ctx: Context) -> list[Unit]:
    """Decide every row's writes as the import will, saving nothing: the rows to write,
    or raise with every problem (a status its type may not take, ...)."""
    problems: list[Problem] = []
    fresh: list[Unit] = []
    writer = _importing(import_ref, ctx)
    for start in range(0, len(units), SIMULATED):
        scratch = UnitOfWork(app)
        for unit in _new(units[start : start + SIMULATED], scratch):
            try:
                make_item(unit, scratch, writer, import_ref)
            except DomainError as error:
                problems.append(Problem(unit.row.line, _column(error, "file"), str(error)))
            else:
                fresh.append(unit)
    if problems:
        raise ImportRejectedError(problems)
    return fresh


class ItemStaging:
    """Rows as items, written by the import in batches (each shows once written)."""

    kind = KIND

    def size(self, unit: Unit) -> int:
        return 2_000 + len(unit.row.description.encode())

    def stage(
        self, uow: UnitOfWork, imp: Import, batch: Sequence[Unit], ctx: Context
    ) -> Staged[Unit]:
        staged: Staged[Unit] = Staged()
        written: dict[UUID, Any] = {}
        writer = _importing(imp.id, ctx)
        for unit in _new(batch, uow):
            for aggregate in make_item(unit, uow, writer, imp.id):
                written[aggregate.id] = aggregate
            staged.claimed.append(unit)
        staged.aggregates = list(written.values())
        return staged

    def complete(
        self, uow: UnitOfWork, imp: Import, claimed: Sequence[Unit], ctx: Context
    ) -> list[Any]:
        return []


def import_items(
    app: LedgerDesk,
    source: bytes | Iterable[bytes],
    ctx: Context,
    places: Places,
    stopping: threading.Event,
    *,
    rename: dict[str, str] | None = None,
    dry_run: bool = False,
) -> ItemImport:
    """Check every row, then (unless a dry run) write the items of this file — or find
    them written by an earlier import of it."""
    digest = hashlib.sha256()
    counted = _Hashed(source, digest)
    rows, problems = read_rows(counted, rename or {}, datetime.now(UTC))
    units = check_rows(rows, UnitOfWork(app), ctx, places, problems)
    ref = import_id(KIND, ctx.actor.ref, digest.hexdigest())
    fresh = rehearse(app, units, ref, ctx)
    created = {kind: sum(1 for u in fresh if u.row.kind == kind) for kind in ("ticket", "task")}
    existing = len(units) - len(fresh)
    if dry_run:
        return ItemImport(len(rows), created, existing, None)
    imported = run_import(app, ItemStaging(), fresh, digest.hexdigest(), ctx, stopping)
    return ItemImport(len(rows), created, existing, imported)


class _Hashed:
    """A file read once: its lines as they stream, its SHA-256 as a side effect."""

    def __init__(self, source: bytes | Iterable[bytes], digest: Any) -> None:
        self.lines: Iterator[bytes] = iter([source]) if isinstance(source, bytes) else iter(source)
        self.digest = digest
        self.pending = b""

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.lines:
            self.digest.update(chunk)
            self.pending += chunk
            *whole, self.pending = self.pending.split(b"\n")
            for line in whole:
                yield line + b"\n"
        if self.pending:
            yield self.pending


class ItemImportService:
    """Imports tickets and tasks from CSV (see the module)."""

    def __init__(self, app: LedgerDesk, stopping: threading.Event) -> None:
        self.app = app
        self.stopping = stopping

    def import_csv(
        self,
        source: bytes | Iterable[bytes],
        ctx: Context,
        places: Places,
        rename: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> ItemImport:
        if ctx.actor.kind != "user" and ctx.actor.kind != "system":
            raise PermissionDeniedError("only staff import items")
        return import_items(
            self.app, source, ctx, places, self.stopping, rename=rename, dry_run=dry_run
        )
