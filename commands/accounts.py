"""Staff accounts: registration, invitations, logins, permissions and tokens."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from commands import users
from commands.application import LedgerDesk
from commands.models import (
    AcceptInvitation,
    ChangePassword,
    ChangeUser,
    CommandResult,
    Context,
    InviteUser,
    IssueToken,
    LogIn,
    RegisterUser,
    RevokeToken,
)
from commands.unit_of_work import UnitOfWork, run
from domain.errors import InvalidEmailError
from domain.user import User, user_id_for


class AccountService:
    """Every write about staff users goes through here; each returns what the caller needs."""

    def __init__(self, app: LedgerDesk, session_ttl: timedelta = timedelta(hours=12)) -> None:
        self.app = app
        self.session_ttl = session_ttl

    def register_user(self, cmd: RegisterUser, ctx: Context) -> CommandResult:
        saved, position = run(
            self.app, user_id_for(cmd.email), lambda uow: users.register_user(cmd, uow, ctx)
        )
        return _result(saved[0], position)

    def invite_user(self, cmd: InviteUser, ctx: Context) -> tuple[CommandResult, str]:
        """Register a user without a password; return the invitation they redeem (once)."""
        _, secret = users.new_token_parts()
        saved, position = run(
            self.app, user_id_for(cmd.email), lambda uow: users.invite_user(cmd, uow, ctx, secret)
        )
        return _result(saved[0], position), users.format_invitation(saved[0].id, secret)

    def accept_invitation(self, cmd: AcceptInvitation, ctx: Context) -> tuple[CommandResult, str]:
        token_id, secret = users.new_token_parts()
        hot = _hex_id(cmd.token.get_secret_value())
        saved, position = run(
            self.app,
            hot,
            lambda uow: users.accept_invitation(cmd, uow, ctx, token_id, secret, self.session_ttl),
        )
        return _result(saved[0], position), users.format_token(saved[0].id, token_id, secret)

    def log_in(self, cmd: LogIn, ctx: Context) -> tuple[CommandResult, str]:
        """A session token for a correct email and password."""
        token_id, secret = users.new_token_parts()
        ttl = self.session_ttl
        saved, position = run(
            self.app,
            _email_id(cmd.email),
            lambda uow: users.log_in(cmd, uow, ctx, token_id, secret, ttl),
        )
        return _result(saved[0], position), users.format_token(saved[0].id, token_id, secret)

    def change_user(
        self, cmd: ChangeUser, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        saved, position = run(
            self.app, cmd.user_id, lambda uow: users.change_user(cmd, uow, ctx), expected_version
        )
        return _result(saved[0], position)

    def issue_token(self, cmd: IssueToken, ctx: Context) -> tuple[CommandResult, str]:
        """Issue an API token; the token itself is returned once and never stored."""
        token_id, secret = users.new_token_parts()
        saved, position = run(
            self.app,
            user_id_for(cmd.email),
            lambda uow: users.issue_token(cmd, uow, ctx, token_id, secret),
        )
        return _result(saved[0], position), users.format_token(saved[0].id, token_id, secret)

    def change_password(self, cmd: ChangePassword, ctx: Context) -> CommandResult:
        saved, position = run(
            self.app, cmd.user_id, lambda uow: users.change_password(cmd, uow, ctx)
        )
        return _result(saved[0], position)

    def revoke_token(self, cmd: RevokeToken, ctx: Context) -> CommandResult:
        saved, position = run(self.app, cmd.user_id, lambda uow: users.revoke_token(cmd, uow, ctx))
        return _result(saved[0], position)

    def authenticate(self, token: str) -> users.Caller:
        return users.authenticate(UnitOfWork(self.app), token)

    def user(self, user_id: UUID) -> User:
        return UnitOfWork(self.app).user(user_id)


def _result(user: User, position: int) -> CommandResult:
    return CommandResult(id=user.id, number=None, version=user.version, position=position)


def _hex_id(token: str) -> UUID:
    """The user id inside a token (a malformed token still gets a lock, and then a 401)."""
    try:
        return UUID(hex=token.split("_")[1])
    except (IndexError, ValueError):
        return UUID(int=0)


def _email_id(email: str) -> UUID:
    try:
        return user_id_for(email)
    except InvalidEmailError:
        return UUID(int=0)
