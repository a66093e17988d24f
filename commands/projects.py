"""Projects: creating and changing them, sharing them with users, teams and customer
organisations, join requests;
and `ProjectService`, through which every write about the hierarchy (projects, portfolios,
folders) and project access goes. Who may work where is `commands.access`."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from pydantic import Field

from commands.access import load_project as load_project  # re-exported for older importers
from commands.access import manages_projects as manages_projects  # re-exported
from commands.access import outsider, require_manager
from commands.access import role_in as role_in  # re-exported
from commands.application import LedgerDesk
from commands.customers import load_organisation
from commands.folders import (
    ChangeFolder,
    CreateFolder,
    FolderNotFoundError,
    change_folder,
    create_folder,
    load_folder,
)
from commands.models import Command, CommandResult, Context
from commands.portfolios import (
    ChangePortfolio,
    CreatePortfolio,
    change_portfolio,
    create_portfolio,
    load_portfolio,
)
from commands.project_calendar import SetProjectCalendar, set_project_calendar
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.access import ProjectRole
from domain.errors import NotFoundError, PermissionDeniedError
from domain.hierarchy import Folder, Portfolio
from domain.project import Project
from domain.project_slugs import ProjectSlug, check_slug, project_slug_id
from domain.team import Team

# --- command models ------------------------------------------------------------------


class CreateProject(Command):
    name: str = Field(min_length=1, max_length=200)
    slug: str | None = Field(default=None, max_length=100)
    portfolio_id: UUID | None = None
    customer_ids: list[UUID] = Field(default_factory=list)


class ChangeProject(Command):
    project_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(default=None, max_length=100)  # "" takes the slug away
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


class ShareWithOrganisation(Command):
    project_id: UUID
    organisation_id: UUID


class UnshareWithOrganisation(Command):
    project_id: UUID
    organisation_id: UUID


class RequestToJoin(Command):
    project_id: UUID
    message: str = Field(default="", max_length=2000)


class DecideJoinRequest(Command):
    project_id: UUID
    user_id: UUID
    approve: bool
    role: ProjectRole = ProjectRole.STANDARD
    reason: str = Field(default="", max_length=2000)


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
        load_portfolio(uow, cmd.portfolio_id)
        project.move_to_portfolio(cmd.portfolio_id, ctx.actor, ctx.correlation_id)
    for organisation_id in cmd.customer_ids:
        project.place_in_customer_folder(organisation_id, ctx.actor, ctx.correlation_id)
    return [*_change_slug(project, cmd.slug, uow, ctx), project]  # the project last: the target


def change_project(cmd: ChangeProject, uow: UnitOfWork, ctx: Context) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_manager(uow, ctx, project, "change the project")
    if cmd.name is not None:
        project.rename(cmd.name, ctx.actor, ctx.correlation_id)
    slugs = _change_slug(project, cmd.slug, uow, ctx)
    if cmd.move_portfolio:
        if cmd.portfolio_id is not None:
            load_portfolio(uow, cmd.portfolio_id)
        project.move_to_portfolio(cmd.portfolio_id, ctx.actor, ctx.correlation_id)
    for organisation_id in cmd.add_customer_ids:
        project.place_in_customer_folder(organisation_id, ctx.actor, ctx.correlation_id)
    for organisation_id in cmd.remove_customer_ids:
        project.remove_from_customer_folder(organisation_id, ctx.actor, ctx.correlation_id)
    return [*slugs, project]  # the project last: the target


def _change_slug(
    project: Project, value: str | None, uow: UnitOfWork, ctx: Context
) -> list[ProjectSlug]:
    """Give `project` the slug `value` ("" for none; None leaves it): claim the new slug's
    index entry and free the old one, to be saved with the project."""
    if value is None:
        return []
    slug = check_slug(value) if value.strip() else None
    old = project.slug
    if slug == old:
        return []
    project.change_slug(slug, ctx.actor, ctx.correlation_id)
    changed: list[ProjectSlug] = []
    if slug is not None:
        entry = uow.get(project_slug_id(slug), ProjectSlug) or ProjectSlug.index(
            slug, ctx.actor, ctx.correlation_id
        )
        entry.claim(project.id, ctx.actor, ctx.correlation_id)
        changed.append(entry)
    if old is not None:
        freed = uow.get(project_slug_id(old), ProjectSlug)
        if freed is not None:
            freed.release(project.id, ctx.actor, ctx.correlation_id)
            changed.append(freed)
    return changed


def project_for_slug(uow: UnitOfWork, slug: str) -> UUID | None:
    """The project that holds `slug` now, if any."""
    entry = uow.get(project_slug_id(slug), ProjectSlug)
    return UUID(entry.project_id) if entry is not None and entry.project_id else None


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


def share_with_organisation(cmd: ShareWithOrganisation, uow: UnitOfWork, ctx: Context) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_manager(uow, ctx, project, "share it with customers")
    load_organisation(uow, cmd.organisation_id)
    project.share_with_organisation(cmd.organisation_id, ctx.actor, ctx.correlation_id)
    return [project]


def unshare_with_organisation(
    cmd: UnshareWithOrganisation, uow: UnitOfWork, ctx: Context
) -> list[Any]:
    project = load_project(uow, cmd.project_id, ctx)
    require_manager(uow, ctx, project, "change which customers it is shared with")
    project.unshare_with_organisation(cmd.organisation_id, ctx.actor, ctx.correlation_id)
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

    def share_with_organisation(self, cmd: ShareWithOrganisation, ctx: Context) -> CommandResult:
        return self._run(cmd.project_id, lambda uow: share_with_organisation(cmd, uow, ctx))

    def unshare_with_organisation(
        self, cmd: UnshareWithOrganisation, ctx: Context
    ) -> CommandResult:
        return self._run(cmd.project_id, lambda uow: unshare_with_organisation(cmd, uow, ctx))

    def request_to_join(self, cmd: RequestToJoin, ctx: Context) -> CommandResult:
        return self._run(cmd.project_id, lambda uow: request_to_join(cmd, uow, ctx))

    def decide_join_request(self, cmd: DecideJoinRequest, ctx: Context) -> CommandResult:
        return self._run(cmd.project_id, lambda uow: decide_join_request(cmd, uow, ctx))

    def set_calendar(
        self, cmd: SetProjectCalendar, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        decide = lambda uow: set_project_calendar(cmd, uow, ctx)  # noqa: E731
        return self._run(cmd.project_id, decide, expected_version)

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
        return load_portfolio(UnitOfWork(self.app), portfolio_id)

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
