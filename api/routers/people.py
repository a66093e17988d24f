"""A ticket's people: assignees and followers (staff users), and its team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Response

from api.deps import Ctx, Services, ServicesDep
from api.responses import OrjsonResponse, documented
from api.routers.tickets import Number, answer_write
from api.schemas import TaskOut, TicketOut
from api.tags import Tag
from commands.models import (
    AddFollower,
    AssignTeam,
    AssignUser,
    CommandResult,
    RemoveFollower,
    UnassignUser,
)

UserId = Annotated[UUID, Path(description="A staff user's id.")]
RESPONSES = {200: {"model": TicketOut | TaskOut}, **documented(401, 404, 409, 422)}


def build(kind: Literal["ticket", "task"]) -> APIRouter:
    """The routes for one item kind, under `/api/v1/{kind}s/{number}`."""
    router = APIRouter(prefix=f"/api/v1/{kind}s/{{number}}", tags=[Tag.PEOPLE])

    def change(svc: Services) -> Callable[..., CommandResult]:
        return svc.commands.change_ticket if kind == "ticket" else svc.commands.change_task

    @router.put(
        "/assignees/{user_id}", summary="Assign a user", responses=RESPONSES, name=f"assign_{kind}"
    )
    def assign(
        number: Number,
        user_id: UserId,
        svc: ServicesDep,
        ctx: Ctx,
        response: Response,
    ) -> OrjsonResponse:
        """Assign a staff user (a ticket may have several); assigning twice changes nothing."""
        result = change(svc)(number, [AssignUser(user_id=user_id)], ctx)
        return answer_write(svc, response, result)

    @router.delete(
        "/assignees/{user_id}",
        summary="Unassign a user",
        responses=RESPONSES,
        name=f"unassign_{kind}",
    )
    def unassign(
        number: Number,
        user_id: UserId,
        svc: ServicesDep,
        ctx: Ctx,
        response: Response,
    ) -> OrjsonResponse:
        """Remove a user from the assignees; removing one who is not assigned changes nothing."""
        result = change(svc)(number, [UnassignUser(user_id=user_id)], ctx)
        return answer_write(svc, response, result)

    @router.put(
        "/team/{team_id}", summary="Assign a team", responses=RESPONSES, name=f"assign_{kind}_team"
    )
    def assign_team(
        number: Number,
        team_id: UUID,
        svc: ServicesDep,
        ctx: Ctx,
        response: Response,
    ) -> OrjsonResponse:
        """Give the ticket to a team (a ticket has at most one; this replaces it)."""
        result = change(svc)(number, [AssignTeam(team_id=team_id)], ctx)
        return answer_write(svc, response, result)

    @router.delete(
        "/team", summary="Unassign the team", responses=RESPONSES, name=f"unassign_{kind}_team"
    )
    def unassign_team(
        number: Number, svc: ServicesDep, ctx: Ctx, response: Response
    ) -> OrjsonResponse:
        """Take the ticket away from its team (nothing changes if it has none)."""
        result = change(svc)(number, [AssignTeam(team_id=None)], ctx)
        return answer_write(svc, response, result)

    @router.put(
        "/followers/{user_id}", summary="Add a follower", responses=RESPONSES, name=f"follow_{kind}"
    )
    def follow(
        number: Number,
        user_id: UserId,
        svc: ServicesDep,
        ctx: Ctx,
        response: Response,
    ) -> OrjsonResponse:
        """Add a staff user as a follower (notified of changes, not responsible)."""
        result = change(svc)(number, [AddFollower(user_id=user_id)], ctx)
        return answer_write(svc, response, result)

    @router.delete(
        "/followers/{user_id}",
        summary="Remove a follower",
        responses=RESPONSES,
        name=f"unfollow_{kind}",
    )
    def unfollow(
        number: Number,
        user_id: UserId,
        svc: ServicesDep,
        ctx: Ctx,
        response: Response,
    ) -> OrjsonResponse:
        """Remove a follower; removing one who does not follow changes nothing."""
        result = change(svc)(number, [RemoveFollower(user_id=user_id)], ctx)
        return answer_write(svc, response, result)

    return router


routers = [build("ticket"), build("task")]
