"""Teams: form and rename them, and manage their members and each member's team role."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import Field

from commands.application import LedgerDesk
from commands.errors import TeamNotFoundError
from commands.models import Command, CommandResult, Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import acting_user
from domain.errors import PermissionDeniedError
from domain.team import Team, TeamRole
from domain.team_names import TeamName, team_name_id, team_name_key
from domain.user import Flag


class CreateTeam(Command):
    name: str = Field(min_length=1, max_length=200)


class RenameTeam(Command):
    team_id: UUID
    name: str = Field(min_length=1, max_length=200)


class AddTeamMember(Command):
    team_id: UUID
    user_id: UUID
    role: TeamRole = TeamRole.MEMBER


class ChangeTeamMemberRole(Command):
    team_id: UUID
    user_id: UUID
    role: TeamRole


class RemoveTeamMember(Command):
    team_id: UUID
    user_id: UUID


def create_team(cmd: CreateTeam, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """Form a team and claim its name, in one atomic save."""
    _require_team_manager(uow, ctx, "create teams")
    team = Team.form(name=cmd.name, actor=ctx.actor, correlation_id=ctx.correlation_id)
    name = uow.get(team_name_id(team.name), TeamName) or TeamName.index(
        team.name, ctx.actor, ctx.correlation_id
    )
    name.claim(team.id, ctx.actor, ctx.correlation_id)
    return [team, name]


def rename_team(cmd: RenameTeam, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """Rename a team: claim the new name and free the old one, in one atomic save."""
    team = _team(uow, cmd.team_id)
    _require_team_manager(uow, ctx, "rename teams")
    old = team.name
    team.rename(cmd.name, ctx.actor, ctx.correlation_id)
    if team_name_key(team.name) == team_name_key(old):
        return [team]  # Unchanged, or only its spelling: the team keeps its index entry.
    new_name = uow.get(team_name_id(team.name), TeamName) or TeamName.index(
        team.name, ctx.actor, ctx.correlation_id
    )
    new_name.claim(team.id, ctx.actor, ctx.correlation_id)
    old_name = uow.get(team_name_id(old), TeamName)
    if old_name is not None:
        old_name.release(team.id, ctx.actor, ctx.correlation_id)
    return [team, new_name, *([old_name] if old_name else [])]


def add_team_member(cmd: AddTeamMember, uow: UnitOfWork, ctx: Context) -> list[Any]:
    team = _team(uow, cmd.team_id)
    _require_member_manager(team, uow, ctx)
    uow.user(cmd.user_id)  # Members are staff users: UserNotFoundError otherwise.
    team.add_member(cmd.user_id, cmd.role, ctx.actor, ctx.correlation_id)
    return [team]


def change_team_member_role(cmd: ChangeTeamMemberRole, uow: UnitOfWork, ctx: Context) -> list[Any]:
    team = _team(uow, cmd.team_id)
    _require_member_manager(team, uow, ctx)
    team.change_member_role(cmd.user_id, cmd.role, ctx.actor, ctx.correlation_id)
    return [team]


def remove_team_member(cmd: RemoveTeamMember, uow: UnitOfWork, ctx: Context) -> list[Any]:
    team = _team(uow, cmd.team_id)
    _require_member_manager(team, uow, ctx)
    team.remove_member(cmd.user_id, ctx.actor, ctx.correlation_id)
    return [team]


def _team(uow: UnitOfWork, team_id: UUID) -> Team:
    team = uow.get(team_id, Team)
    if team is None:
        raise TeamNotFoundError(team_id)
    return team


def _require_team_manager(uow: UnitOfWork, ctx: Context, what: str) -> None:
    """Admins and members with the manage_teams flag (system actors are trusted)."""
    user = acting_user(uow, ctx)
    if user is not None and not user.has_flag(Flag.MANAGE_TEAMS):
        raise PermissionDeniedError(f"only admins and members who manage teams may {what}")


def _require_member_manager(team: Team, uow: UnitOfWork, ctx: Context) -> None:
    """Team managers only (as above). Not the team's own leads: a team shared with a
    project gives every member that project role, so adding a member grants access, which
    only those who manage teams may do."""
    _require_team_manager(uow, ctx, "change a team's members")


class TeamService:
    """Every write about teams goes through here; each returns what the caller needs."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def create_team(self, cmd: CreateTeam, ctx: Context) -> CommandResult:
        # Writers of the same name take turns on its index entry.
        saved, position = run(self.app, team_name_id(cmd.name), lambda u: create_team(cmd, u, ctx))
        return _result(saved[0], position)

    def rename_team(
        self, cmd: RenameTeam, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        saved, position = run(
            self.app, cmd.team_id, lambda uow: rename_team(cmd, uow, ctx), expected_version
        )
        return _result(saved[0], position)

    def add_team_member(self, cmd: AddTeamMember, ctx: Context) -> CommandResult:
        saved, position = run(self.app, cmd.team_id, lambda uow: add_team_member(cmd, uow, ctx))
        return _result(saved[0], position)

    def change_team_member_role(self, cmd: ChangeTeamMemberRole, ctx: Context) -> CommandResult:
        saved, position = run(
            self.app, cmd.team_id, lambda uow: change_team_member_role(cmd, uow, ctx)
        )
        return _result(saved[0], position)

    def remove_team_member(self, cmd: RemoveTeamMember, ctx: Context) -> CommandResult:
        saved, position = run(self.app, cmd.team_id, lambda uow: remove_team_member(cmd, uow, ctx))
        return _result(saved[0], position)

    def set_team_member(self, cmd: AddTeamMember, ctx: Context) -> CommandResult:
        """Add a member, or change their role if they are in the team already (a PUT)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            if _team(uow, cmd.team_id).role_of(cmd.user_id) is None:
                return add_team_member(cmd, uow, ctx)
            change = ChangeTeamMemberRole(**cmd.model_dump())
            return change_team_member_role(change, uow, ctx)

        saved, position = run(self.app, cmd.team_id, decide)
        return _result(saved[0], position)

    def team(self, team_id: UUID) -> Team:
        return _team(UnitOfWork(self.app), team_id)


def _result(team: Team, position: int) -> CommandResult:
    return CommandResult(id=team.id, number=None, version=team.version, position=position)
