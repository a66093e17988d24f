"""Projects as the unit of access: loading one (the Inbox springs into being), and who may
work in it. Roles are read from the write model (the project and its teams), never a view."""

from __future__ import annotations

from uuid import UUID

from commands.models import Context
from commands.unit_of_work import UnitOfWork
from commands.users import acting_user
from domain.access import ProjectRole, may_manage_members
from domain.errors import NotFoundError, PermissionDeniedError
from domain.project import INBOX_ID, Project
from domain.team import Team
from domain.user import Flag, User
from domain.values import Actor

# The roles that may arrange a project's folders.
EDITORS = {ProjectRole.MANAGER, ProjectRole.LEAD}


class ProjectNotFoundError(NotFoundError):
    """Raised when no project has the given id."""

    def __init__(self, project_id: UUID) -> None:
        super().__init__(f"no project {project_id}")


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
