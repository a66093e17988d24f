"""Handlers for staff users and their bearer tokens, and token authentication."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from uuid import UUID

from commands.errors import InvalidTokenError, UserNotFoundError
from commands.models import Context, IssueToken, RegisterUser
from commands.unit_of_work import UnitOfWork
from domain.errors import UserAlreadyExistsError
from domain.user import User, user_id_for

TOKEN_PREFIX = "ld"  # noqa: S105 (a prefix, not a secret)


def register_user(cmd: RegisterUser, uow: UnitOfWork, ctx: Context) -> list[Any]:
    if uow.find_user(user_id_for(cmd.email)) is not None:
        raise UserAlreadyExistsError(cmd.email)
    user = User.register(
        email=cmd.email,
        name=cmd.name,
        is_admin=cmd.is_admin,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [user]


def issue_token(
    cmd: IssueToken, uow: UnitOfWork, ctx: Context, token_id: str, secret: str
) -> list[Any]:
    user = uow.find_user(user_id_for(cmd.email))
    if user is None:
        raise UserNotFoundError(cmd.email)
    user.issue_token(
        token_id=token_id,
        secret_sha256=_digest(secret),
        label=cmd.label,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [user]


def new_token_parts() -> tuple[str, str]:
    """A token id (public, names the token) and its secret (shown once, stored hashed)."""
    return secrets.token_hex(6), secrets.token_urlsafe(32)


def format_token(user_id: UUID, token_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}_{user_id.hex}_{token_id}_{secret}"


def authenticate(uow: UnitOfWork, token: str) -> User:
    """The active user a bearer token belongs to, checked against the write model."""
    prefix, _, rest = token.partition("_")
    user_hex, _, rest = rest.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not secret:
        raise InvalidTokenError
    try:
        user = uow.find_user(UUID(hex=user_hex))
    except ValueError:
        raise InvalidTokenError from None
    expected = user.token_hashes.get(token_id) if user else None
    if user is None or expected is None:
        raise InvalidTokenError
    if not hmac.compare_digest(expected, _digest(secret)):
        raise InvalidTokenError
    return user


def _digest(secret: str) -> str:
    # Tokens carry 256 random bits, so a plain hash is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()
