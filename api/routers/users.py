"""Staff users: admins create them."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import AdminUser, Ctx, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.schemas import UserCreate, UserOut
from api.tags import Tag
from commands.models import RegisterUser

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
    user = svc.commands.user(result.id)
    content = {"id": user.id, "email": user.email, "name": user.name, "is_admin": user.is_admin}
    return reply(response, content, 201, Location=f"/api/v1/users/{user.id}")
