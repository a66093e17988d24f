"""Projects, portfolios and folders: the hierarchy items live in, and who may work where."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from pydantic import Field

from commands.application import LedgerDesk
from commands.models import Command, CommandResult, Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.access import ProjectRole, may_manage_members
from domain.errors import NotFoundError, PermissionDeniedError
from domain.hierarchy import Folder, Portfolio
from domain.project import INBOX_ID, Project
from domain.team import Team
from domain.user import Flag, User
from domain.values import Actor


class ProjectNotFoundError(NotFoundError):
    """Raised when no project has the given id."""

    def __init__(self, project_id: UUID) -> None:
        super().__init__(f"no project {project_id}")


class PortfolioNotFoundError(NotFoundError):
    """Raised when no portfolio has the given id."""

    def __init__(self, portfolio_id: UUID) -> None:
        super().__init__(f"no portfolio {portfolio_id}")


class FolderNotFoundError(NotFoundError):
    """Raised when no folder has the given id (or it is not in the project named)."""

    def __init__(self, folder_id: UUID) -> None:
        super().__init__(f"no folder {folder_id}")


# --- command models ------------------------------------------------------------------


class CreateProject(Command):
    name: str = Field(min_length=1, max_length=200)
    portfolio_id: UUID | None = None
    customer_ids: list[UUID] = Field(default_factory=list)


class ChangeProject(Command):
    project_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=200)
    portfolio_id: UUID | None = None
    move_portfolio: bool = False  # True: set portfolio_id (None takes it out of any)
    add_customer_ids: list[UUID] = Field(default_factory=list)
    remove_customer_ids: list[UUID] = Field(default_factory=list)


class ShareProject(Command):
    project_id: UUID
    user_id: UUID | None = None
    team_id: UUID | None = None
    role: ProjectRole


class UnshareProject(Command):
    project_id: UUID
    user_id: UUID | None = None
    team_id: UUID | None = None


class RequestToJoin(Command):
    project_id: UUID
    message: str = Field(default="", max_length=2000)


class DecideJoinRequest(Command):
    project_id: UUID
    user_id: UUID
    approve: bool
    role: ProjectRole = ProjectRole.STANDARD
    reason: str = Field(default="", max_length=2000)


class CreatePortfolio(Command):
    name: str = Field(min_length=1, max_length=200)
    parent_id: UUID | None = None


class ChangePortfolio(Command):
    portfolio_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: UUID | None = None
    move: bool = False


class CreateFolder(Command):
    project_id: UUID
    name: str = Field(min_length=1, max_length=200)
    parent_id: UUID | None = None


class ChangeFolder(Command):
    folder_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=200)
    project_id: UUID | None = None
    parent_id: UUID | None = None
    move: bool = False


# --- who may ---------------------------------------------------------------------------


def manages_projects(user: User | None) -> bool:
    """The system, admins and members flagged to manage projects manage every project."""
    return user is None or user.has_flag(Flag.MANAGE_PROJECTS)


def role_in(uow: UnitOfWork, project: Project, user: User) -> ProjectRole | None:
    """The user's strongest role in the project, directly or through its teams."""
    return project.role_of(user.id, team_ids_of(uow, project, user))


def team_ids_of(uow: UnitOfWork, project: Project, user: User) -> list[UUID]:
    """The teams shared with `project` that `user` belongs to (read from the write model)."""
    found = []
    for team_id in project.teams:
        team = uow.get(UUID(team_id), Team)
        if team is not None and str(user.id) in team.members:
            found.append(UUID(team_id))
    return found


def outsider(uow: UnitOfWork, ctx: Context, project: Project) -> bool:
    """Has the caller no way into this project? (Then its contents are not theirs to know
    of: 404, never 403.) The system and those who manage every project are never outside."""
    user = acting_user(uow, ctx)
    return user is not None and not manages_projects(user) and role_in(uow, project, user) is None


def require_manager(uow: UnitOfWork, ctx: Context, project: Project, what: str) -> None:
    user = acting_user(uow, ctx)
    if manages_projects(user):
        return
    assert user is not None
    if not may_manage_members(role_in(uow, project, user)):
        raise PermissionDeniedError(f"only the project's managers may {what}")


def require_role(
    uow: UnitOfWork, ctx: Context, project: Project, allowed: set[ProjectRole], what: str
) -> None:
    user = acting_user(uow, ctx)
    if manages_projects(user):
        return
    assert user is not None
    if role_in(uow, project, user) not in allowed:
        raise PermissionDeniedError(f"your role in this project does not allow you to {what}")


# --- loading -----------------------------------------------------------------------------


def load_project(uow: UnitOfWork, project_id: UUID, ctx: Context | None = None) -> Project:
    """A project; the Inbox springs into being the first time it is needed (callers save
    what they load, so the Inbox's creation is saved with the first change that needs it)."""
    project = uow.get(project_id, Project)
    if project is None and project_id == INBOX_ID:
        actor = ctx.actor if ctx else Actor.system("ledgerdesk")
        return Project.create_inbox(actor, ctx.correlation_id if ctx else "inbox")
    if project is None:
        raise ProjectNotFoundError(project_id)
    return project


def load_folder(uow: UnitOfWork, folder_id: UUID, project_id: UUID | None = None) -> Folder:
    folder = uow.get(folder_id, Folder)
    if folder is None or (project_id is not None and folder.project_id != str(project_id)):
        raise FolderNotFoundError(folder_id)
    return folder


def _portfolio(uow: UnitOfWork, portfolio_id: UUID) -> Portfolio:
    portfolio = uow.get(portfolio_id, Portfolio)
    if portfolio is None:
        raise PortfolioNotFoundError(portfolio_id)
    return portfolio


def portfolio_ancestors(uow: UnitOfWork, portfolio_id: UUID | None) -> list[UUID]:
    chain: list[UUID] = []
    while portfolio_id is not None and portfolio_id not in chain:
        chain.append(portfolio_id)
        parent = _portfolio(uow, portfolio_id).parent_id
        portfolio_id = UUID(parent) if parent else None
    return chain


def folder_ancestors(uow: UnitOfWork, folder_id: UUID | None) -> list[UUID]:
    chain: list[UUID] = []
    while folder_id is not None and folder_id not in chain:
        chain.append(folder_id)
        parent = load_folder(uow, folder_id).parent_id
        folder_id = UUID(parent) if parent else None
    return chain


# --- handlers ------------------------------------------------------------------------------


def create_project(
    cmd: CreateProject, uow: UnitOfWork, ctx: Context, project_id: UUID
) -> list[Any]:
    user = acting_user(uow, ctx)
    if not manages_projects(user):
        raise PermissionDeniedError("only admins and project managers may create projects")
    project = Project.create(
        project_id=project_id,
        name=cmd.name,
        manager=user.id if user else None,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    if cmd.portfolio_id is not None:
        _portfolio(uow, cmd.portfolio_id)
        project.move_to_portfolio(cmd.portfolio_id, ctx.actor, ctx.correlation_id)
    for organisation_id in cmd.customer_ids:
        project.place_in_customer_folder(organisation_id, ctx.actor, ctx.correlation_id)
    return [project]


def change_project(cmd: ChangeProject, uow: UnitOfWork, ctx: Context) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_manager(uow, ctx, project, "change the project")
    if cmd.name is not None:
        project.rename(cmd.name, ctx.actor, ctx.correlation_id)
    if cmd.move_portfolio:
        if cmd.portfolio_id is not None:
            _portfolio(uow, cmd.portfolio_id)
        project.move_to_portfolio(cmd.portfolio_id, ctx.actor, ctx.correlation_id)
    for organisation_id in cmd.add_customer_ids:
        project.place_in_customer_folder(organisation_id, ctx.actor, ctx.correlation_id)
    for organisation_id in cmd.remove_customer_ids:
        project.remove_from_customer_folder(organisation_id, ctx.actor, ctx.correlation_id)
    return [project]


def share_project(cmd: ShareProject, uow: UnitOfWork, ctx: Context) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_manager(uow, ctx, project, "share it")
    if cmd.user_id is not None:
        uow.user(cmd.user_id)
        project.share_with_user(cmd.user_id, cmd.role, ctx.actor, ctx.correlation_id)
    if cmd.team_id is not None:
        if uow.get(cmd.team_id, Team) is None:
            raise NotFoundError(f"no team {cmd.team_id}")
        project.share_with_team(cmd.team_id, cmd.role, ctx.actor, ctx.correlation_id)
    return [project]


def unshare_project(cmd: UnshareProject, uow: UnitOfWork, ctx: Context) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_manager(uow, ctx, project, "change who it is shared with")
    if cmd.user_id is not None:
        project.unshare_with_user(cmd.user_id, ctx.actor, ctx.correlation_id)
    if cmd.team_id is not None:
        project.unshare_with_team(cmd.team_id, ctx.actor, ctx.correlation_id)
    return [project]


def request_to_join(cmd: RequestToJoin, uow: UnitOfWork, ctx: Context) -> list[Any]:
    user = acting_user(uow, ctx)
    if user is None:
        raise PermissionDeniedError("only staff users ask to join projects")
    project = load_project(uow, cmd.project_id, ctx)
    project.request_to_join(user.id, cmd.message, ctx.actor, ctx.correlation_id)
    return [project]


def decide_join_request(cmd: DecideJoinRequest, uow: UnitOfWork, ctx: Context) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_manager(uow, ctx, project, "decide join requests")
    if cmd.approve:
        project.approve_join(cmd.user_id, cmd.role, ctx.actor, ctx.correlation_id)
    else:
        project.deny_join(cmd.user_id, cmd.reason, ctx.actor, ctx.correlation_id)
    return [project]


def create_portfolio(
    cmd: CreatePortfolio, uow: UnitOfWork, ctx: Context, portfolio_id: UUID
) -> list[Any]:
    if not manages_projects(acting_user(uow, ctx)):
        raise PermissionDeniedError("only admins and project managers may create portfolios")
    if cmd.parent_id is not None:
        _portfolio(uow, cmd.parent_id)
    return [
        Portfolio.create(
            portfolio_id=portfolio_id,
            name=cmd.name,
            parent=cmd.parent_id,
            actor=ctx.actor,
            correlation_id=ctx.correlation_id,
        )
    ]


def change_portfolio(cmd: ChangePortfolio, uow: UnitOfWork, ctx: Context) -> list[Any]:
    if not manages_projects(acting_user(uow, ctx)):
        raise PermissionDeniedError("only admins and project managers may change portfolios")
    portfolio = _portfolio(uow, cmd.portfolio_id)
    if cmd.name is not None:
        portfolio.rename(cmd.name, ctx.actor, ctx.correlation_id)
    if cmd.move:
        ancestors = portfolio_ancestors(uow, cmd.parent_id)
        portfolio.move(cmd.parent_id, ancestors, ctx.actor, ctx.correlation_id)
    return [portfolio]


EDITORS = {ProjectRole.MANAGER, ProjectRole.LEAD}


def create_folder(cmd: CreateFolder, uow: UnitOfWork, ctx: Context, folder_id: UUID) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_role(uow, ctx, project, EDITORS, "create folders")
    parent = load_folder(uow, cmd.parent_id, cmd.project_id) if cmd.parent_id else None
    folder = Folder.create(
        folder_id=folder_id,
        name=cmd.name,
        project=cmd.project_id,
        parent=cmd.parent_id,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    if parent is not None:
        parent.add_subfolder(folder.id, ctx.actor, ctx.correlation_id)
    # The project saves nothing unless it is a new Inbox.
    return [project, *([parent] if parent else []), folder]


def subtree(uow: UnitOfWork, folder: Folder) -> list[Folder]:
    """The folder and every folder beneath it (from the write model's contents index)."""
    found, queue = [folder], [folder]
    while queue:
        for sub_id in queue.pop().subfolders:
            sub = load_folder(uow, UUID(sub_id))
            found.append(sub)
            queue.append(sub)
    return found


def change_folder(cmd: ChangeFolder, uow: UnitOfWork, ctx: Context) -> list[Any]:
    folder = load_folder(uow, cmd.folder_id)
    source = load_project(uow, UUID(folder.project_id), ctx)
    if outsider(uow, ctx, source):
        raise FolderNotFoundError(cmd.folder_id)
    require_role(uow, ctx, source, EDITORS, "change folders")
    if cmd.name is not None:
        folder.rename(cmd.name, ctx.actor, ctx.correlation_id)
    changed: list[Any] = []
    if cmd.move:
        changed = _move_folder(folder, source, cmd, uow, ctx)
    return [*changed, folder]


def _move_folder(
    folder: Folder, source: Project, cmd: ChangeFolder, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    """Move a folder; to another project, its sub-folders and items go along, atomically."""
    target_id = cmd.project_id or source.id
    if target_id != source.id:
        target = load_project(uow, target_id, ctx)
        require_role(uow, ctx, target, EDITORS, "move folders into that project")
    new_parent = load_folder(uow, cmd.parent_id, target_id) if cmd.parent_id else None
    old_parent = load_folder(uow, UUID(folder.parent_id)) if folder.parent_id else None
    ancestors = folder_ancestors(uow, cmd.parent_id)
    folder.move(target_id, cmd.parent_id, ancestors, ctx.actor, ctx.correlation_id)
    changed: list[Any] = []
    if old_parent is not new_parent:
        for parent, add in ((old_parent, False), (new_parent, True)):
            if parent is None:
                continue
            if add:
                parent.add_subfolder(folder.id, ctx.actor, ctx.correlation_id)
            else:
                parent.remove_subfolder(folder.id, ctx.actor, ctx.correlation_id)
            changed.append(parent)
    if target_id != source.id:
        for inner in subtree(uow, folder):
            if inner is not folder:
                parent_id = UUID(inner.parent_id) if inner.parent_id else None
                inner.move(target_id, parent_id, [], ctx.actor, ctx.correlation_id)
                changed.append(inner)
            for number in inner.items:
                ticket = uow.ticket(number)
                ticket.move(target_id, inner.id, ctx.actor, ctx.correlation_id)
                changed.append(ticket)
    return changed


# --- the service -------------------------------------------------------------------------


class ProjectService:
    """Every write about the hierarchy and project access goes through here."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def create_project(self, cmd: CreateProject, ctx: Context) -> CommandResult:
        new_id = uuid.uuid4()
        return self._run(new_id, lambda uow: create_project(cmd, uow, ctx, new_id))

    def change_project(
        self, cmd: ChangeProject, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        decide = lambda uow: change_project(cmd, uow, ctx)  # noqa: E731
        return self._run(cmd.project_id, decide, expected_version)

    def share_project(self, cmd: ShareProject, ctx: Context) -> CommandResult:
        return self._run(cmd.project_id, lambda uow: share_project(cmd, uow, ctx))

    def unshare_project(self, cmd: UnshareProject, ctx: Context) -> CommandResult:
        return self._run(cmd.project_id, lambda uow: unshare_project(cmd, uow, ctx))

    def request_to_join(self, cmd: RequestToJoin, ctx: Context) -> CommandResult:
        return self._run(cmd.project_id, lambda uow: request_to_join(cmd, uow, ctx))

    def decide_join_request(self, cmd: DecideJoinRequest, ctx: Context) -> CommandResult:
        return self._run(cmd.project_id, lambda uow: decide_join_request(cmd, uow, ctx))

    def create_portfolio(self, cmd: CreatePortfolio, ctx: Context) -> CommandResult:
        new_id = uuid.uuid4()
        return self._run(new_id, lambda uow: create_portfolio(cmd, uow, ctx, new_id))

    def change_portfolio(
        self, cmd: ChangePortfolio, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        decide = lambda uow: change_portfolio(cmd, uow, ctx)  # noqa: E731
        return self._run(cmd.portfolio_id, decide, expected_version)

    def create_folder(self, cmd: CreateFolder, ctx: Context) -> CommandResult:
        new_id = uuid.uuid4()
        return self._run(cmd.project_id, lambda uow: create_folder(cmd, uow, ctx, new_id))

    def change_folder(
        self, cmd: ChangeFolder, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._run(cmd.folder_id, lambda uow: change_folder(cmd, uow, ctx), expected_version)

    def project(self, project_id: UUID) -> Project:
        return load_project(UnitOfWork(self.app), project_id)

    def portfolio(self, portfolio_id: UUID) -> Portfolio:
        return _portfolio(UnitOfWork(self.app), portfolio_id)

    def folder(self, folder_id: UUID) -> Folder:
        return load_folder(UnitOfWork(self.app), folder_id)

    def folder_project(self, folder_id: UUID | None, ctx: Context) -> UUID:
        """The project a folder is in (for moving an item to a folder by its id alone);
        a folder in a project the caller has no role in is not found."""
        assert folder_id is not None
        uow = UnitOfWork(self.app)
        folder = load_folder(uow, folder_id)
        project = load_project(uow, UUID(folder.project_id), ctx)
        if outsider(uow, ctx, project):
            raise FolderNotFoundError(folder_id)
        return project.id

    def _run(self, hot: UUID, decide: Any, expected_version: int | None = None) -> CommandResult:
        saved, position = run(self.app, hot, decide, expected_version)
        target = saved[-1]
        return CommandResult(id=target.id, number=None, version=target.version, position=position)
