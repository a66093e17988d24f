"""Staff users: admins create, invite, change and deactivate them; everyone may read."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from api.account_schemas import InvitationOut, UserCreate, UserInvite, UserOut, UserPage, UserPatch
from api.deps import AdminCaller, Ctx, CurrentCaller, ExpectedVersion, ServicesDep, fresh, written
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from commands.models import ChangeUser, InviteUser, RegisterUser, RevokeToken
from domain.errors import PermissionDeniedError
from domain.user import User, scope_to_change
from projections.base import current_tables
from projections.users import list_users

router = APIRouter(prefix="/api/v1/users", tags=[Tag.USERS])


def shown(user: User) -> dict[str, Any]:
    """A user as the API shows them (never their password hash or tokens)."""
    if not user.is_active:
        status = "deactivated"
    elif user.invitation_sha256 is not None and user.password_hash is None:
        status = "invited"
    else:
        status = "active"
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "apps": user.apps,
        "flags": user.flags,
        "status": status,
        "is_admin": user.is_admin,
        "version": user.version,
    }


@router.get(
    "",
    summary="List staff users",
    responses={200: {"model": UserPage}, **documented(401, 403, 422)},
    dependencies=[Depends(fresh("users"))],
)
def list_staff(
    svc: ServicesDep,
    caller: CurrentCaller,
    response: Response,
    q: Annotated[str | None, Query(max_length=200, description="Part of a name or email.")] = None,
    status: Annotated[str | None, Query(pattern="^(invited|active|deactivated)$")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrjsonResponse:
    """Staff users ordered by email, a page at a time."""
    with svc.views.read() as tx:
        items, next_cursor = list_users(tx, current_tables(tx, "users"), q, status, cursor, limit)
    return reply(response, {"items": items, "next_cursor": next_cursor})


@router.post(
    "",
    status_code=201,
    summary="Create a staff user",
    responses={201: {"model": UserOut}, **documented(401, 403, 409, 422)},
)
def create_user(
    body: UserCreate, svc: ServicesDep, admin: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Create a staff user (admins only); an email can belong to one user only."""
    result = svc.accounts.register_user(RegisterUser(**body.model_dump()), ctx)
    written(response, result.position, result.version)
    user = svc.accounts.user(result.id)
    return reply(response, shown(user), 201, Location=f"/api/v1/users/{result.id}")


@router.post(
    "/invitations",
    status_code=201,
    summary="Invite a staff user",
    responses={201: {"model": InvitationOut}, **documented(401, 403, 409, 422)},
)
def invite_user(
    body: UserInvite, svc: ServicesDep, admin: AdminCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """Create a user without a password and return a one-time invitation (valid 7 days)
    that they redeem at `POST /api/v1/auth/invitations/accept` to choose a password."""
    result, invitation = svc.accounts.invite_user(InviteUser(**body.model_dump()), ctx)
    written(response, result.position, result.version)
    user = svc.accounts.user(result.id)
    content = {"user": shown(user), "invitation": invitation}
    return reply(response, content, 201, Location=f"/api/v1/users/{result.id}")


@router.get(
    "/{user_id:uuid}",
    summary="Read a staff user",
    responses={200: {"model": UserOut}, **documented(401, 403, 404, 422)},
)
def read_user(
    user_id: UUID, svc: ServicesDep, caller: CurrentCaller, response: Response
) -> OrjsonResponse:
    """A staff user's profile, role, app permissions, flags and status."""
    user = svc.accounts.user(user_id)
    return reply(response, shown(user), ETag=f'"{user.version}"')


@router.patch(
    "/{user_id:uuid}",
    summary="Change a staff user",
    responses={200: {"model": UserOut}, **documented(401, 403, 404, 409, 412, 422)},
)
def change_user(
    user_id: UUID,
    body: UserPatch,
    svc: ServicesDep,
    caller: CurrentCaller,
    ctx: Ctx,
    version: ExpectedVersion,
    response: Response,
) -> OrjsonResponse:
    """Rename (yourself, or anyone as an admin); change role, apps, flags or `active`
    (admins only: deactivating stops every token and login of that user)."""
    changes = body.model_dump(exclude_none=True)
    needed = scope_to_change(set(changes))
    if needed.value not in caller.scopes:
        raise PermissionDeniedError(f"this token lacks the {needed.value} scope")
    result = svc.accounts.change_user(ChangeUser(user_id=user_id, **changes), ctx, version)
    written(response, result.position, result.version)
    return reply(response, shown(svc.accounts.user(user_id)))


@router.delete(
    "/{user_id:uuid}/tokens/{token_id}",
    status_code=204,
    summary="Revoke a user's token",
    responses=documented(401, 403, 404),
)
def revoke_users_token(
    user_id: UUID,
    token_id: str,
    svc: ServicesDep,
    admin: AdminCaller,
    ctx: Ctx,
    response: Response,
) -> Response:
    """Revoke any user's token (admins only), e.g. a leaked integration token."""
    result = svc.accounts.revoke_token(RevokeToken(user_id=user_id, token_id=token_id), ctx)
    return Response(status_code=204, headers={"X-Log-Position": str(result.position)})
