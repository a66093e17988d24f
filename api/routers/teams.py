"""Teams: admins and `manage_teams` staff create and rename them and manage their members."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from api.account_schemas import TeamCreate, TeamMemberPut, TeamOut, TeamPage, TeamPatch
from api.deps import Ctx, CurrentCaller, ExpectedVersion, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from commands.errors import TeamNotFoundError
from commands.models import CommandResult
from commands.teams import AddTeamMember, CreateTeam, RemoveTeamMember, RenameTeam
from domain.team import Team
from projections.base import current_tables, iso
from projections.teams import get_team, list_teams

router = APIRouter(prefix="/api/v1/teams", tags=[Tag.TEAMS])


def shown(team: Team) -> dict[str, Any]:
    """A team as the API shows it: the same document the team directory view gives."""
    return {
        "id": team.id,
        "name": team.name,
        "members": [{"user_id": u, "role": r} for u, r in sorted(team.members.items())],
        "version": team.version,
        "created_at": iso(team.created_on),
        "updated_at": iso(team.modified_on),
    }


def answer_write(
    svc: ServicesDep, response: Response, result: CommandResult, status: int = 200, **extra: str
) -> OrjsonResponse:
    written(response, result.position, result.version)
    return reply(response, shown(svc.teams.team(result.id)), status, **extra)


@router.get(
    "",
    summary="List teams",
    responses={200: {"model": TeamPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("teams"))],
)
def list_all_teams(
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    q: Annotated[str | None, Query(max_length=200, description="Part of a team name.")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """Teams with their members ordered by name, a page at a time."""
    with svc.views.read() as tx:
        items, next_cursor = list_teams(tx, current_tables(tx, "teams"), q, cursor, limit)
    return reply(response, {"items": items, "next_cursor": next_cursor})


@router.post(
    "",
    status_code=201,
    summary="Create a team",
    responses={201: {"model": TeamOut}, **documented(401, 403, 409, 422)},
)
def create_team(body: TeamCreate, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """Create a team without members (admins and `manage_teams`); names are unique."""
    result = svc.teams.create_team(CreateTeam(name=body.name), ctx)
    return answer_write(svc, response, result, 201, Location=f"/api/v1/teams/{result.id}")


@router.get(
    "/{team_id}",
    summary="Read a team",
    responses={200: {"model": TeamOut}, **documented(401, 403, 404, 422)},
    dependencies=[Depends(fresh("teams"))],
)
def read_team(
    team_id: UUID, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """A team's name and members with their team roles."""
    with svc.views.read() as tx:
        doc = get_team(tx, current_tables(tx, "teams"), str(team_id))
    if doc is None:
        raise TeamNotFoundError(team_id)
    return reply(response, doc, ETag=f'"{doc["version"]}"')


@router.patch(
    "/{team_id}",
    summary="Rename a team",
    responses={200: {"model": TeamOut}, **documented(401, 403, 404, 409, 412, 422)},
)
def rename_team(
    team_id: UUID,
    body: TeamPatch,
    svc: ServicesDep,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Rename a team (admins and `manage_teams`); the old name is free for others."""
    result = svc.teams.rename_team(RenameTeam(team_id=team_id, name=body.name), ctx, version)
    return answer_write(svc, response, result)


@router.put(
    "/{team_id}/members/{user_id}",
    summary="Add a team member or change their role",
    responses={200: {"model": TeamOut}, **documented(401, 403, 404, 422)},
)
def put_team_member(
    team_id: UUID,
    user_id: UUID,
    body: TeamMemberPut,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Make a staff user a member with `role` (admins and `manage_teams` staff; not the
    team's own leads, since membership grants the projects the team is shared with)."""
    cmd = AddTeamMember(team_id=team_id, user_id=user_id, role=body.role)
    return answer_write(svc, response, svc.teams.set_team_member(cmd, ctx))


@router.delete(
    "/{team_id}/members/{user_id}",
    summary="Remove a team member",
    responses={200: {"model": TeamOut}, **documented(401, 403, 404, 422)},
)
def remove_team_member(
    team_id: UUID, user_id: UUID, svc: ServicesDep, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Take a user out of the team (admins and `manage_teams` staff)."""
    cmd = RemoveTeamMember(team_id=team_id, user_id=user_id)
    return answer_write(svc, response, svc.teams.remove_team_member(cmd, ctx))
