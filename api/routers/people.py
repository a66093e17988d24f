"""A ticket's people: assignees and followers (staff users), and its team."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response

from api.deps import Ctx, ServicesDep
from api.responses import OrjsonResponse, documented
from api.routers.tickets import Number, answer_write
from api.schemas import TicketOut
from api.tags import Tag
from commands.models import AddFollower, AssignTeam, AssignUser, RemoveFollower, UnassignUser

router = APIRouter(prefix="/api/v1/tickets/{number}", tags=[Tag.PEOPLE])
UserId = Annotated[UUID, Path(description="A staff user's id.")]
RESPONSES = {200: {"model": TicketOut}, **documented(401, 404, 409, 422)}


@router.put("/assignees/{user_id}", summary="Assign a user", responses=RESPONSES)
def assign(
    number: Number,
    user_id: UserId,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Assign a staff user (a ticket may have several); assigning twice changes nothing."""
    result = svc.commands.change_ticket(number, [AssignUser(user_id=user_id)], ctx)
    return answer_write(svc, response, result)


@router.delete("/assignees/{user_id}", summary="Unassign a user", responses=RESPONSES)
def unassign(
    number: Number,
    user_id: UserId,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Remove a user from the assignees; removing one who is not assigned changes nothing."""
    result = svc.commands.change_ticket(number, [UnassignUser(user_id=user_id)], ctx)
    return answer_write(svc, response, result)


@router.put("/team/{team_id}", summary="Assign a team", responses=RESPONSES)
def assign_team(
    number: Number,
    team_id: UUID,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Give the ticket to a team (a ticket has at most one; this replaces it)."""
    result = svc.commands.change_ticket(number, [AssignTeam(team_id=team_id)], ctx)
    return answer_write(svc, response, result)


@router.delete("/team", summary="Unassign the team", responses=RESPONSES)
def unassign_team(number: Number, svc: ServicesDep, ctx: Ctx, response: Response) -> OrjsonResponse:
    """Take the ticket away from its team (nothing changes if it has none)."""
    result = svc.commands.change_ticket(number, [AssignTeam(team_id=None)], ctx)
    return answer_write(svc, response, result)


@router.put("/followers/{user_id}", summary="Add a follower", responses=RESPONSES)
def follow(
    number: Number,
    user_id: UserId,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Add a staff user as a follower (notified of changes, not responsible)."""
    result = svc.commands.change_ticket(number, [AddFollower(user_id=user_id)], ctx)
    return answer_write(svc, response, result)


@router.delete("/followers/{user_id}", summary="Remove a follower", responses=RESPONSES)
def unfollow(
    number: Number,
    user_id: UserId,
    svc: ServicesDep,
    ctx: Ctx,
    response: Response,
) -> OrjsonResponse:
    """Remove a follower; removing one who does not follow changes nothing."""
    result = svc.commands.change_ticket(number, [RemoveFollower(user_id=user_id)], ctx)
    return answer_write(svc, response, result)
