"""Staff users: admins create them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response

from api.deps import AdminUser, Ctx, CurrentUser, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import UserCreate, UserOut
from api.tags import Tag
from commands.models import RegisterUser
from domain.user import User

router = APIRouter(prefix="/api/v1/users", tags=[Tag.USERS])


@router.post(
    "",
    status_code=201,
    summary="Create a staff user",
    responses={201: {"model": UserOut}, **documented(401, 403, 409, 422)},
)
def create_user(
    body: UserCreate, svc: ServicesDep, admin: AdminUser, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Create a staff user (admins only); an email can belong to one user only."""
    result = svc.commands.register_user(RegisterUser(**body.model_dump()), ctx)
    written(response, result.position, result.version)
    content = _shown(svc.commands.user(result.id))
    return reply(response, content, 201, Location=f"/api/v1/users/{result.id}")


@router.get(
    "/{user_id}",
    summary="Read a staff user",
    responses={200: {"model": UserOut}, **documented(401, 404, 422)},
)
def read_user(
    user_id: UUID, svc: ServicesDep, caller: CurrentUser, response: Response
) -> OrjsonResponse:
    """A staff user's id, email, name and whether they are an admin."""
    user = svc.commands.user(user_id)
    return reply(response, _shown(user), ETag=f'"{user.version}"')


def _shown(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "is_admin": user.is_admin}
