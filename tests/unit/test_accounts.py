"""Staff accounts on the in-memory store: logins, invitations, tokens, permissions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from pydantic import SecretStr

from commands.accounts import AccountService
from commands.application import LedgerDesk
from commands.errors import InvalidTokenError
from commands.models import (
    AcceptInvitation,
    ChangeUser,
    Context,
    InviteUser,
    IssueToken,
    LogIn,
    RegisterUser,
    RevokeToken,
)
from domain.errors import (
    CannotDeactivateSelfError,
    InvalidCredentialsError,
    InvalidValueError,
    PermissionDeniedError,
    UserAlreadyExistsError,
    UserDeactivatedError,
)
from domain.user import CompanyRole, Flag, Scope, within_token
from domain.values import Actor
from tests.factories import SYSTEM

PASSWORD = SecretStr("correct horse battery")


@pytest.fixture
def accounts() -> Iterator[AccountService]:
    app = LedgerDesk(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield AccountService(app)
    app.close()


def as_user(accounts: AccountService, email: str) -> Context:
    result = accounts.register_user(RegisterUser(email=email, name=email), SYSTEM)
    return Context(actor=Actor.user(result.id), correlation_id="c")


def admin(accounts: AccountService, email: str = "root@example.com") -> Context:
    result = accounts.register_user(
        RegisterUser(email=email, name="Root", role=CompanyRole.ADMIN), SYSTEM
    )
    return Context(actor=Actor.user(result.id), correlation_id="c")


def test_an_email_belongs_to_one_user_only(accounts: AccountService) -> None:
    accounts.register_user(RegisterUser(email="ada@example.com", name="Ada"), SYSTEM)
    with pytest.raises(UserAlreadyExistsError):
        accounts.register_user(RegisterUser(email=" ADA@example.com", name="Other"), SYSTEM)


def test_an_issued_token_authenticates_its_user_and_a_forged_one_does_not(
    accounts: AccountService,
) -> None:
    accounts.register_user(RegisterUser(email="ada@example.com", name="Ada"), SYSTEM)
    _, token = accounts.issue_token(IssueToken(email="ada@example.com"), SYSTEM)
    caller = accounts.authenticate(token)
    assert caller.user.email == "ada@example.com"
    assert caller.scopes == {"read", "write"}
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, "ld_nothing", "", "Bearer x", token.replace("ld_", "xx_", 1)):
        with pytest.raises(InvalidTokenError):
            accounts.authenticate(bad)


def test_a_password_login_issues_an_expiring_session_token(accounts: AccountService) -> None:
    accounts.register_user(
        RegisterUser(email="ada@example.com", name="Ada", password=PASSWORD), SYSTEM
    )
    _, token = accounts.log_in(LogIn(email="Ada@Example.com", password=PASSWORD), SYSTEM)
    caller = accounts.authenticate(token)
    held = caller.user.tokens[caller.token_id]
    assert held["kind"] == "session"
    expires = datetime.fromisoformat(held["expires_at"])
    assert timedelta(hours=11) < expires - datetime.now(UTC) <= timedelta(hours=12)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", "correct horse battery"),
        ("not an email", "x"),
    ],
)
def test_a_wrong_login_says_nothing_about_why(
    accounts: AccountService, email: str, password: str
) -> None:
    accounts.register_user(
        RegisterUser(email="ada@example.com", name="Ada", password=PASSWORD), SYSTEM
    )
    head = accounts.app.head()
    with pytest.raises(InvalidCredentialsError, match="wrong email or password"):
        accounts.log_in(LogIn(email=email, password=SecretStr(password)), SYSTEM)
    assert accounts.app.head() == head


def test_an_invited_user_sets_a_password_once_and_can_then_log_in(
    accounts: AccountService,
) -> None:
    root = admin(accounts)
    _, invitation = accounts.invite_user(
        InviteUser(email="grace@example.com", name="Grace", flags=[Flag.MANAGE_TEAMS]), root
    )
    with pytest.raises(InvalidCredentialsError):
        accounts.log_in(LogIn(email="grace@example.com", password=PASSWORD), SYSTEM)
    _, session = accounts.accept_invitation(
        AcceptInvitation(token=SecretStr(invitation), password=PASSWORD), SYSTEM
    )
    grace = accounts.authenticate(session).user
    assert grace.has_flag(Flag.MANAGE_TEAMS)
    assert not grace.has_flag(Flag.MANAGE_PROJECTS)
    with pytest.raises(InvalidCredentialsError):
        accounts.accept_invitation(
            AcceptInvitation(token=SecretStr(invitation), password=PASSWORD), SYSTEM
        )
    accounts.log_in(LogIn(email="grace@example.com", password=PASSWORD), SYSTEM)


def test_only_admins_create_users_or_change_permissions(accounts: AccountService) -> None:
    member = as_user(accounts, "ada@example.com")
    with pytest.raises(PermissionDeniedError):
        accounts.register_user(RegisterUser(email="b@example.com", name="B"), member)
    ada_id = UUID(member.actor.ident)
    with pytest.raises(PermissionDeniedError):
        accounts.change_user(ChangeUser(user_id=ada_id, role=CompanyRole.ADMIN), member)
    accounts.change_user(ChangeUser(user_id=ada_id, name="Ada L."), member)
    assert accounts.user(ada_id).name == "Ada L."


def test_only_admins_may_hold_the_admin_scope(accounts: AccountService) -> None:
    as_user(accounts, "ada@example.com")
    with pytest.raises(InvalidValueError):
        accounts.issue_token(IssueToken(email="ada@example.com", scopes=[Scope.ADMIN]), SYSTEM)
    _, token = accounts.issue_token(
        IssueToken(email="ada@example.com", scopes=[Scope.READ]), SYSTEM
    )
    assert accounts.authenticate(token).scopes == {"read"}


def test_deactivation_stops_every_token_and_login_until_reactivated(
    accounts: AccountService,
) -> None:
    root = admin(accounts)
    ada = accounts.register_user(
        RegisterUser(email="ada@example.com", name="Ada", password=PASSWORD), SYSTEM
    )
    _, token = accounts.issue_token(IssueToken(email="ada@example.com"), SYSTEM)
    accounts.change_user(ChangeUser(user_id=ada.id, active=False), root)
    with pytest.raises(InvalidTokenError):
        accounts.authenticate(token)
    with pytest.raises(InvalidCredentialsError):
        accounts.log_in(LogIn(email="ada@example.com", password=PASSWORD), SYSTEM)
    with pytest.raises(UserDeactivatedError):
        accounts.issue_token(IssueToken(email="ada@example.com"), SYSTEM)
    accounts.change_user(ChangeUser(user_id=ada.id, active=True), root)
    assert accounts.authenticate(token).user.email == "ada@example.com"


def test_an_admin_cannot_deactivate_themselves(accounts: AccountService) -> None:
    root = admin(accounts)
    with pytest.raises(CannotDeactivateSelfError):
        accounts.change_user(ChangeUser(user_id=UUID(root.actor.ident), active=False), root)


def test_expired_and_revoked_tokens_stop_working(accounts: AccountService) -> None:
    as_user(accounts, "ada@example.com")
    past = datetime.now(UTC) - timedelta(seconds=1)
    _, expired = accounts.issue_token(IssueToken(email="ada@example.com", expires_at=past), SYSTEM)
    with pytest.raises(InvalidTokenError):
        accounts.authenticate(expired)
    _, kept = accounts.issue_token(IssueToken(email="ada@example.com"), SYSTEM)
    caller = accounts.authenticate(kept)
    accounts.revoke_token(RevokeToken(user_id=caller.user.id, token_id=caller.token_id), SYSTEM)
    with pytest.raises(InvalidTokenError):
        accounts.authenticate(kept)


def test_a_member_cannot_issue_or_revoke_tokens_of_others(accounts: AccountService) -> None:
    ada = as_user(accounts, "ada@example.com")
    as_user(accounts, "bob@example.com")
    with pytest.raises(PermissionDeniedError):
        accounts.issue_token(IssueToken(email="bob@example.com"), ada)
    _, bobs = accounts.issue_token(IssueToken(email="bob@example.com"), SYSTEM)
    bob = accounts.authenticate(bobs)
    with pytest.raises(PermissionDeniedError):
        accounts.revoke_token(RevokeToken(user_id=bob.user.id, token_id=bob.token_id), ada)


def test_customers_and_anonymous_actors_are_never_taken_for_the_system(
    accounts: AccountService,
) -> None:
    for actor in (Actor.customer("eve@example.com"), Actor("anonymous", "login")):
        ctx = Context(actor=actor, correlation_id="c")
        with pytest.raises(PermissionDeniedError):
            accounts.register_user(RegisterUser(email="x@example.com", name="X"), ctx)


def test_a_token_minted_with_another_is_never_stronger_nor_longer_lived() -> None:
    held = {"scopes": ["read", "write"], "expires_at": "2027-01-01T00:00:00+00:00"}
    ceiling = datetime(2027, 1, 1, tzinfo=UTC)
    # No scopes asked: the holder's; no expiry asked: the holder's
    assert within_token(held, [], None) == (["read", "write"], ceiling)
    # Fewer scopes and an earlier expiry are kept
    sooner = datetime(2026, 12, 24, tzinfo=UTC)
    assert within_token(held, ["read"], sooner) == (["read"], sooner)
    # A later expiry is capped
    assert within_token(held, ["read"], datetime(2030, 1, 1, tzinfo=UTC))[1] == ceiling
    # A scope the holder lacks is refused
    with pytest.raises(PermissionDeniedError):
        within_token(held, ["admin"], None)
