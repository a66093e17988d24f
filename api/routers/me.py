"""The caller: their profile and their API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.account_schemas import PasswordChange, TokenCreate, TokenIssuedOut, TokenOut, UserOut
from api.deps import ClientAddress, Ctx, CurrentCaller, ServicesDep, written
from api.responses import OrjsonResponse, documented, reply
from api.routers.auth import issued
from api.routers.users import shown
from api.tags import Tag
from commands.models import ChangePassword, IssueToken, RevokeToken

router = APIRouter(prefix="/api/v1/me", tags=[Tag.ME])


@router.get("", summary="Who am I", responses={200: {"model": UserOut}, **documented(401, 403)})
def me(caller: CurrentCaller, response: Response) -> OrjsonResponse:
    """The staff user the token belongs to."""
    return reply(response, shown(caller.user), ETag=f'"{caller.user.version}"')


@router.post(
    "/password",
    status_code=204,
    summary="Change my password",
    responses=documented(401, 403, 422, 429),
)
def change_password(
    body: PasswordChange,
    svc: ServicesDep,
    caller: CurrentCaller,
    ctx: Ctx,
    client: ClientAddress,
) -> Response:
    """Change your password, giving the current one; every other session of yours ends (the
    one making this request and your API tokens go on). Wrong current passwords count as
    failed sign-ins (429 after too many)."""
    cmd = ChangePassword(
        user_id=caller.user.id,
        current_password=body.current_password,
        new_password=body.new_password,
        keep_session=caller.token_id,
    )
    with svc.throttle.attempt(client, caller.user.email):
        result = svc.accounts.change_password(cmd, ctx)
    return Response(status_code=204, headers={"X-Log-Position": str(result.position)})


@router.get(
    "/tokens",
    summary="My tokens",
    responses={200: {"model": list[TokenOut]}, **documented(401, 403)},
)
def my_tokens(caller: CurrentCaller, response: Response) -> OrjsonResponse:
    """Every live token of yours (sessions and API tokens), never their secrets."""
    tokens = [
        {
            "id": token_id,
            "label": t["label"],
            "kind": t["kind"],
            "scopes": t["scopes"],
            "expires_at": t["expires_at"],
        }
        for token_id, t in sorted(caller.user.tokens.items())
    ]
    return reply(response, tokens)


@router.post(
    "/tokens",
    status_code=201,
    summary="Create an API token",
    responses={201: {"model": TokenIssuedOut}, **documented(401, 403, 422)},
)
def create_token(
    body: TokenCreate, svc: ServicesDep, caller: CurrentCaller, ctx: Ctx, response: Response
) -> OrjsonResponse:
    """A named token for an integration, with scopes (read, write, admin) and an optional
    expiry; never more scopes or a later expiry than the token making it. Shown once."""
    cmd = IssueToken(
        email=caller.user.email,
        label=body.label,
        scopes=body.scopes,
        expires_at=body.expires_at,
        minted_with=caller.token_id,
    )
    result, token = svc.accounts.issue_token(cmd, ctx)
    written(response, result.position)
    response.headers["Cache-Control"] = "no-store"
    return reply(response, issued(svc, result, token), 201)


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    summary="Revoke one of my tokens",
    responses=documented(401, 403, 404),
)
def revoke_token(token_id: str, svc: ServicesDep, caller: CurrentCaller, ctx: Ctx) -> Response:
    """Revoke a token of yours; it stops working at once."""
    result = svc.accounts.revoke_token(RevokeToken(user_id=caller.user.id, token_id=token_id), ctx)
    return Response(status_code=204, headers={"X-Log-Position": str(result.position)})
