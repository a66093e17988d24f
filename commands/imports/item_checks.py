"""Checking an imported row of tickets and tasks against the data, with the importer's
rights: where its item goes (a project they may see and create items in — by name, or
where its type puts it), its folder, team, people, item type and status. Each question is
asked once per checker (a checker lives for one batch of rows).

(The row on its own is checked in `domain.item_import`.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from commands.access import ProjectNotFoundError, load_project, manages_projects, role_in
from commands.company_settings import require_kind_on
from commands.imports.csv_files import Problem
from commands.models import Context
from commands.tickets import CREATORS, item_type_for, require_tasks_app, require_tickets_app
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from commands.workflow.statuses import lifecycle_for
from domain.errors import DomainError, InvalidValueError
from domain.item_import import OPTIONAL, REQUIRED, ItemRow
from domain.project import INBOX_ID, Project
from domain.team_names import TeamName, team_name_id
from domain.user import user_id_for


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


class Checker:
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
            self._may_create(seen[0])
            return seen[0].id

        result: UUID = self.once(("project", path), ask)
        return result

    def _may_create(self, project: Project, where: str = "this project") -> None:
        if manages_projects(self.importer):
            return
        assert self.importer is not None
        if role_in(self.uow, project, self.importer) not in CREATORS:
            raise InvalidValueError(
                "project", f"your role in {where} does not allow you to create items"
            )

    def placed(self, row: ItemRow, item_type: str | None) -> None:
        """A row that names no project goes where its type puts its items (a task: the
        Inbox): the importer must be able to create items there too."""
        target = INBOX_ID
        if row.kind == "ticket":
            found: dict[str, Any] = self.once(
                ("type", item_type or "ticket"),
                lambda: item_type_for(self.uow, item_type or "ticket", "ticket"),
            )
            target = UUID(found["project_id"]) if found["project_id"] else INBOX_ID

        def ask() -> None:
            project = self._project(str(target))
            where = "the Inbox" if target == INBOX_ID else "the project its type puts it in"
            if project is None:
                raise InvalidValueError("project", f"you may not see {where}: name a project")
            self._may_create(project, where)

        self.once(("placed", str(target)), ask)

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

    def unit(self, row: ItemRow, key: str, problems: list[Problem]) -> Unit | None:
        """The row, checked: where its item goes and who it names; or None, with its
        problems added to `problems`."""
        before = len(problems)

        def bad(column: str, error: DomainError) -> None:
            problems.append(Problem(row.line, column_of(error, column), str(error)))

        def asked(column: str, ask: Any) -> Any:
            try:
                return ask()
            except DomainError as error:
                bad(column, error)
                return None

        asked("kind", lambda: self.kind(row.kind))
        item_type = asked("item_type", lambda: self.item_type(row))
        project = asked("project", lambda: self.project(row.project))
        if not row.project and (item_type is not None or not row.item_type):
            asked("project", lambda: self.placed(row, item_type))
        folder = None
        if project is not None or not row.project:  # (A project that failed says so.)
            folder = asked("folder", lambda: self.folder(project, row.folder))
        team = asked("team", lambda: self.team(row.team))
        status = asked("status", lambda: self.status(row, item_type))
        assignees = tuple(
            asked("assignees", lambda e=email: self.user(e)) for email in row.assignees
        )
        if len(problems) > before:
            return None
        return Unit(row, key, project, folder, team, assignees, item_type, status)


def column_of(error: DomainError, fallback: str) -> str:
    """The column a domain error names (its field), else `fallback`."""
    field = getattr(error, "field", None)
    return field if isinstance(field, str) and field in (*REQUIRED, *OPTIONAL) else fallback
