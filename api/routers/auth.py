"""Logging in: password logins and invitations issue session tokens; logging out revokes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.account_schemas import InvitationAcceptance, LoginBody, TokenIssuedOut
from api.deps import ClientAddress, Correlation, ServicesDep, TokenHolder, written
from api.responses import OrjsonResponse, documented, reply
from api.tags import Tag
from commands.models import AcceptInvitation, CommandResult, Context, LogIn, RevokeToken
from domain.values import Actor

router = APIRouter(prefix="/api/v1/auth", tags=[Tag.AUTH])


def _anonymous(correlation_id: str) -> Context:
    return Context(actor=Actor("anonymous", "login"), correlation_id=correlation_id)


def issued(svc: ServicesDep, result: CommandResult, token: str) -> dict[str, Any]:
    user = svc.accounts.user(result.id)
    token_id = token.split("_")[2]
    held = user.tokens[token_id]
    return {
        "access_token": token,
        "token_type": "bearer",
        "token_id": token_id,
        "user_id": user.id,
        "scopes": held["scopes"],
        "expires_at": held["expires_at"],
    }


@router.post(
    "/token",
    status_code=201,
    summary="Log in",
    responses={201: {"model": TokenIssuedOut}, **documented(401, 422, 429)},
)
def log_in(
    body: LoginBody,
    svc: ServicesDep,
    correlation_id: Correlation,
    client: ClientAddress,
    response: Response,
) -> OrjsonResponse:
    """Exchange an email and password for a session token (valid `session_hours`, 12 by
    default). Too many attempts from one client, or failures for one address, answer 429."""
    with svc.throttle.attempt(client, body.email):
        cmd = LogIn(**body.model_dump())
        result, token = svc.accounts.log_in(cmd, _anonymous(correlation_id))
    written(response, result.position)
    response.headers["Cache-Control"] = "no-store"
    return reply(response, issued(svc, result, token), 201)


@router.post(
    "/invitations/accept",
    status_code=201,
    summary="Accept an invitation",
    responses={201: {"model": TokenIssuedOut}, **documented(401, 409, 422, 429)},
)
def accept_invitation(
    body: InvitationAcceptance,
    svc: ServicesDep,
    correlation_id: Correlation,
    client: ClientAddress,
    response: Response,
) -> OrjsonResponse:
    """Redeem an invitation: choose a password (10+ characters) and get a session token.
    Too many attempts from one client answer 429."""
    with svc.throttle.attempt(client):
        result, token = svc.accounts.accept_invitation(
            AcceptInvitation(token=body.token, password=body.password), _anonymous(correlation_id)
        )
    written(response, result.position)
    response.headers["Cache-Control"] = "no-store"
    return reply(response, issued(svc, result, token), 201)


@router.delete("/token", status_code=204, summary="Log out", responses=documented(401, 403))
def log_out(svc: ServicesDep, caller: TokenHolder, correlation_id: Correlation) -> Response:
    """Revoke the token this request was made with (any token may give itself up)."""
    ctx = Context(actor=Actor.user(caller.user.id), correlation_id=correlation_id)
    cmd = RevokeToken(user_id=caller.user.id, token_id=caller.token_id)
    result = svc.accounts.revoke_token(cmd, ctx)
    headers = {"X-Correlation-ID": correlation_id, "X-Log-Position": str(result.position)}
    return Response(status_code=204, headers=headers)
