"""Handlers for staff users, invitations, logins and bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from commands.errors import InvalidTokenError, UserNotFoundError
from commands.models import (
    AcceptInvitation,
    ChangePassword,
    ChangeUser,
    Context,
    InviteUser,
    IssueToken,
    LogIn,
    RegisterUser,
    RevokeToken,
)
from commands.passwords import hash_password, verify_password
from commands.unit_of_work import UnitOfWork
from domain.errors import (
    InvalidCredentialsError,
    InvalidEmailError,
    InvalidValueError,
    PermissionDeniedError,
    UserAlreadyExistsError,
)
from domain.user import User, user_id_for, within_token
from domain.values import Actor

TOKEN_PREFIX = "ld"  # noqa: S105 (a prefix, not a secret)
INVITATION_PREFIX = "ldi"
INVITATION_TTL = timedelta(days=7)


@dataclass(frozen=True)
class Caller:
    """An authenticated staff user and what the token they used may do."""

    user: User
    token_id: str
    scopes: frozenset[str]


def acting_user(uow: UnitOfWork, ctx: Context) -> User | None:
    """The staff user behind `ctx` (None for the system: the CLI, migrations; for an
    automation rule, which admins wrote: `automation:<rule id>`; and for an item import,
    `import:<import id>`, whose importer's rights were checked on every row before).

    Any other actor (a customer, an anonymous login) is refused here, so that no staff
    rule can mistake it for the trusted system.
    """
    if ctx.actor.kind == "user":
        return uow.user(UUID(ctx.actor.ident))
    if ctx.actor.kind in ("system", "automation", "import"):
        return None
    raise PermissionDeniedError("only staff may do this")


def require_admin(uow: UnitOfWork, ctx: Context, what: str) -> None:
    user = acting_user(uow, ctx)
    if user is not None and not user.is_admin:
        raise PermissionDeniedError(f"only admins may {what}")


def _new_user(cmd: RegisterUser | InviteUser, uow: UnitOfWork, ctx: Context) -> User:
    require_admin(uow, ctx, "create users")
    if uow.find_user(user_id_for(cmd.email)) is not None:
        raise UserAlreadyExistsError(cmd.email)
    return User.register(
        email=cmd.email,
        name=cmd.name,
        role=cmd.role,
        apps=cmd.apps,
        flags=[f.value for f in cmd.flags],
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


def register_user(cmd: RegisterUser, uow: UnitOfWork, ctx: Context) -> list[Any]:
    user = _new_user(cmd, uow, ctx)
    if cmd.password is not None:
        user.set_password(
            hash_password(cmd.password.get_secret_value()), ctx.actor, ctx.correlation_id
        )
    return [user]


def invite_user(cmd: InviteUser, uow: UnitOfWork, ctx: Context, secret: str) -> list[Any]:
    user = _new_user(cmd, uow, ctx)
    expires = datetime.now(UTC) + INVITATION_TTL
    user.invite(_digest(secret), expires.isoformat(), ctx.actor, ctx.correlation_id)
    return [user]


def format_invitation(user_id: UUID, secret: str) -> str:
    return f"{INVITATION_PREFIX}_{user_id.hex}_{secret}"


def accept_invitation(
    cmd: AcceptInvitation,
    uow: UnitOfWork,
    ctx: Context,
    token_id: str,
    secret: str,
    ttl: timedelta,
) -> list[Any]:
    """Redeem an invitation: set the password and issue a session token."""
    prefix, _, rest = cmd.token.get_secret_value().partition("_")
    user_hex, _, invitation = rest.partition("_")
    user = _user_by_hex(uow, user_hex) if prefix == INVITATION_PREFIX else None
    if user is None or user.invitation_sha256 is None or user.invitation_expires_at is None:
        raise InvalidCredentialsError("the invitation is not valid")
    if not hmac.compare_digest(user.invitation_sha256, _digest(invitation)):
        raise InvalidCredentialsError("the invitation is not valid")
    if datetime.fromisoformat(user.invitation_expires_at) < datetime.now(UTC):
        raise InvalidCredentialsError("the invitation has expired; ask for a new one")
    as_user = Context(actor=Actor.user(user.id), correlation_id=ctx.correlation_id)
    user.accept_invitation(
        hash_password(cmd.password.get_secret_value()), as_user.actor, as_user.correlation_id
    )
    _issue_session(user, as_user, token_id, secret, ttl)
    return [user]


def log_in(
    cmd: LogIn, uow: UnitOfWork, ctx: Context, token_id: str, secret: str, ttl: timedelta
) -> list[Any]:
    """Check an email and password; on success issue a session token that expires."""
    try:
        user = uow.find_user(user_id_for(cmd.email))
    except InvalidEmailError:
        user = None
    known = user.password_hash if user is not None and user.is_active else None
    if not verify_password(known, cmd.password.get_secret_value()) or user is None:
        raise InvalidCredentialsError("wrong email or password")
    as_user = Context(actor=Actor.user(user.id), correlation_id=ctx.correlation_id)
    _issue_session(user, as_user, token_id, secret, ttl)
    return [user]


def _issue_session(user: User, ctx: Context, token_id: str, secret: str, ttl: timedelta) -> None:
    user.issue_token(
        token_id=token_id,
        secret_sha256=_digest(secret),
        label="session",
        kind="session",
        scopes=user.scopes(),
        expires_at=(datetime.now(UTC) + ttl).isoformat(),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


def change_user(cmd: ChangeUser, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """Rename (self or admin); role, apps, flags and activity (admins only)."""
    user = uow.user(cmd.user_id)
    acting = acting_user(uow, ctx)
    if cmd.name is not None:
        if acting is not None and not acting.is_admin and acting.id != user.id:
            raise PermissionDeniedError("only admins may rename other users")
        user.rename(cmd.name, ctx.actor, ctx.correlation_id)
    admin_fields = (cmd.role, cmd.apps, cmd.flags, cmd.active)
    if any(value is not None for value in admin_fields):
        require_admin(uow, ctx, "change roles, apps, flags or activity")
    if cmd.role is not None:
        user.change_role(cmd.role, ctx.actor, ctx.correlation_id)
    if cmd.apps is not None:
        user.change_apps(cmd.apps, ctx.actor, ctx.correlation_id)
    if cmd.flags is not None:
        user.change_flags([f.value for f in cmd.flags], ctx.actor, ctx.correlation_id)
    if cmd.active is False:
        user.deactivate(ctx.actor, ctx.correlation_id)
    elif cmd.active is True:
        user.reactivate(ctx.actor, ctx.correlation_id)
    return [user]


def issue_token(
    cmd: IssueToken, uow: UnitOfWork, ctx: Context, token_id: str, secret: str
) -> list[Any]:
    """An API token for integrations; staff issue tokens for themselves only."""
    user = uow.find_user(user_id_for(cmd.email))
    if user is None:
        raise UserNotFoundError(cmd.email)
    acting = acting_user(uow, ctx)
    if acting is not None and acting.id != user.id:
        raise PermissionDeniedError("staff issue API tokens for themselves only")
    scopes, expires_at = [s.value for s in cmd.scopes], cmd.expires_at
    if cmd.minted_with is not None:
        if cmd.minted_with not in user.tokens:
            raise InvalidTokenError
        scopes, expires_at = within_token(user.tokens[cmd.minted_with], scopes, expires_at)
    user.issue_token(
        token_id=token_id,
        secret_sha256=_digest(secret),
        label=cmd.label,
        kind="api",
        scopes=scopes,
        expires_at=expires_at.astimezone(UTC).isoformat() if expires_at else None,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [user]


def change_password(cmd: ChangePassword, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """Change your own password, proving the current one; your other sessions end."""
    user = uow.user(cmd.user_id)
    if ctx.actor != Actor.user(user.id):
        raise PermissionDeniedError("only you may change your password")
    if not verify_password(user.password_hash, cmd.current_password.get_secret_value()):
        raise InvalidValueError("current_password", "the current password is wrong")
    new = cmd.new_password.get_secret_value()
    if new == cmd.current_password.get_secret_value():
        raise InvalidValueError("new_password", "the new password is the current one")
    user.change_password(hash_password(new), cmd.keep_session, ctx.actor, ctx.correlation_id)
    return [user]


def revoke_token(cmd: RevokeToken, uow: UnitOfWork, ctx: Context) -> list[Any]:
    user = uow.user(cmd.user_id)
    acting = acting_user(uow, ctx)
    if acting is not None and acting.id != user.id and not acting.is_admin:
        raise PermissionDeniedError("only admins may revoke other users' tokens")
    user.revoke_token(cmd.token_id, ctx.actor, ctx.correlation_id)
    return [user]


def new_token_parts() -> tuple[str, str]:
    """A token id (public, names the token) and its secret (shown once, stored hashed)."""
    return secrets.token_hex(6), secrets.token_urlsafe(32)


def format_token(user_id: UUID, token_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}_{user_id.hex}_{token_id}_{secret}"


def authenticate(uow: UnitOfWork, token: str) -> Caller:
    """The active user a bearer token belongs to, checked against the write model."""
    prefix, _, rest = token.partition("_")
    user_hex, _, rest = rest.partition("_")
    token_id, _, secret = rest.partition("_")
    user = _user_by_hex(uow, user_hex) if prefix == TOKEN_PREFIX and secret else None
    held = user.tokens.get(token_id) if user is not None else None
    if user is None or held is None or not user.is_active:
        raise InvalidTokenError
    if not hmac.compare_digest(held["secret_sha256"], _digest(secret)):
        raise InvalidTokenError
    expires = held["expires_at"]
    if expires is not None and datetime.fromisoformat(expires) <= datetime.now(UTC):
        raise InvalidTokenError
    return Caller(user=user, token_id=token_id, scopes=frozenset(held["scopes"]))


def _user_by_hex(uow: UnitOfWork, user_hex: str) -> User | None:
    try:
        return uow.find_user(UUID(hex=user_hex))
    except ValueError:
        return None


def _digest(secret: str) -> str:
    # Tokens carry 256 random bits, so a plain hash is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()
