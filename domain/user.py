"""The staff User aggregate: company role, app permissions, flags, password, tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    CannotDeactivateSelfError,
    InvalidValueError,
    PermissionDeniedError,
    TokenNotFoundError,
    UserDeactivatedError,
)
from domain.values import Actor, normalise_email

USER_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/users")


class CompanyRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class Apps(StrEnum):
    """Which apps a staff user may use."""

    TICKETS = "tickets"
    TASKS = "tasks"
    BOTH = "both"


class Flag(StrEnum):
    """What a member may manage beyond their projects (admins may do all of it); and
    `no_chats`: an admin took customer conversations (the messenger) from the user, admin
    or not."""

    MANAGE_PROJECTS = "manage_projects"
    MANAGE_CUSTOMERS = "manage_customers"
    MANAGE_TEAMS = "manage_teams"
    NO_CHATS = "no_chats"


class Scope(StrEnum):
    """What a bearer token may do: read (GET), write (changes), admin (admin routes), mail
    (hand received mail in, for a mail server's pipe; admins only)."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"
    MAIL = "mail"


def user_id_for(email: str) -> UUID:
    """A staff user's id follows from their email, so an email is taken at most once."""
    return uuid5(USER_NAMESPACE, normalise_email(email))


def within_token(
    held: dict[str, Any], scopes: list[str], expires_at: datetime | None
) -> tuple[list[str], datetime | None]:
    """The scopes and expiry of a token minted with the token `held`: every scope it holds
    when none are asked for, never a scope it lacks, and never a later expiry than its own."""
    wanted = sorted(set(scopes) or set(held["scopes"]))
    if not set(wanted) <= set(held["scopes"]):
        raise PermissionDeniedError("a token cannot grant scopes it does not hold")
    if held["expires_at"] is not None:
        ceiling = datetime.fromisoformat(held["expires_at"])
        if expires_at is None or expires_at > ceiling:
            expires_at = ceiling
    return wanted, expires_at


def scope_to_change(fields: set[str]) -> Scope:
    """The token scope a change of a user's `fields` needs: anyone may rename themselves
    with `write`; anything more is an admin's change, which needs `admin`."""
    return Scope.WRITE if fields <= {"name"} else Scope.ADMIN


def _flags(flags: list[str]) -> list[str]:
    try:
        return sorted({Flag(f).value for f in flags})
    except ValueError:
        known = ", ".join(f.value for f in Flag)
        raise InvalidValueError("flags", f"unknown flag in {flags}; known: {known}") from None


class User(Aggregate):
    """A staff member: agent, project manager or admin.

    class_version 2: snapshots of version 1 held `is_admin` and `token_hashes`.
    """

    TOPIC = "ledgerdesk:User"
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Bring a version-1 snapshot's state to the shape of version 2."""
        state["role"] = CompanyRole.ADMIN.value if state.pop("is_admin") else "member"
        state["apps"] = Apps.BOTH.value
        state["flags"] = []
        state.setdefault("is_active", True)
        state["password_hash"] = None
        state["invitation_sha256"] = None
        state["invitation_expires_at"] = None
        state["tokens"] = {
            token_id: {
                "secret_sha256": digest,
                "label": "",
                "kind": "api",
                "scopes": ["read", "write", "admin"],  # Every scope there was in version 1.
                "expires_at": None,
            }
            for token_id, digest in state.pop("token_hashes", {}).items()
        }

    if TYPE_CHECKING:  # Defined at runtime by the @event decorators below.
        Renamed: ClassVar[type[Aggregate.Event]]
        RoleChanged: ClassVar[type[Aggregate.Event]]
        AppsChanged: ClassVar[type[Aggregate.Event]]
        FlagsChanged: ClassVar[type[Aggregate.Event]]
        PasswordSet: ClassVar[type[Aggregate.Event]]
        InvitationIssued: ClassVar[type[Aggregate.Event]]
        InvitationAccepted: ClassVar[type[Aggregate.Event]]
        Deactivated: ClassVar[type[Aggregate.Event]]
        Reactivated: ClassVar[type[Aggregate.Event]]
        TokenRevoked: ClassVar[type[Aggregate.Event]]

    @staticmethod
    def create_id(email: str) -> UUID:
        return user_id_for(email)

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:User.Created"

    class Registered(Aggregate.Created):
        """The user exists. v2 replaced `is_admin` with `role`, and added `apps` and `flags`."""

        TOPIC = "ledgerdesk:User.Registered"
        class_version = 2
        email: str
        name: str
        role: str
        apps: str
        flags: list[str]
        actor: str
        correlation_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["role"] = CompanyRole.ADMIN if state.pop("is_admin") else CompanyRole.MEMBER
            state["apps"] = Apps.BOTH.value
            state["flags"] = []

    class TokenIssued(Aggregate.Event):
        """A bearer token, by the hash of its secret. v2 added kind, scopes and expiry."""

        TOPIC = "ledgerdesk:User.TokenIssued"
        class_version = 2
        token_id: str
        secret_sha256: str
        label: str
        kind: str
        scopes: list[str]
        expires_at: str | None
        actor: str
        correlation_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["kind"] = "api"
            state["scopes"] = ["read", "write", "admin"]  # Every scope there was in v1.
            state["expires_at"] = None

    @event(Registered)
    def __init__(
        self,
        email: str,
        name: str,
        role: str,
        apps: str,
        flags: list[str],
        actor: str,
        correlation_id: str,
    ) -> None:
        self.email = email
        self.name = name
        self.role = role
        self.apps = apps
        self.flags = flags
        self.is_active = True
        self.password_hash: str | None = None
        self.invitation_sha256: str | None = None
        self.invitation_expires_at: str | None = None
        self.tokens: dict[str, dict[str, Any]] = {}

    @classmethod
    def register(
        cls,
        *,
        email: str,
        name: str,
        role: CompanyRole,
        apps: Apps,
        flags: list[str],
        actor: Actor,
        correlation_id: str,
    ) -> User:
        email = normalise_email(email)
        return cls(
            email=email,
            name=name.strip() or email,
            role=role.value,
            apps=apps.value,
            flags=_flags(flags),
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @property
    def is_admin(self) -> bool:
        return self.role == CompanyRole.ADMIN

    def has_flag(self, flag: Flag) -> bool:
        return self.is_admin or flag.value in self.flags

    @property
    def takes_chats(self) -> bool:
        """Takes part in customer conversations: has the tickets app, and no admin took
        conversations from them (`no_chats`)."""
        return self.apps in (Apps.TICKETS, Apps.BOTH) and Flag.NO_CHATS.value not in self.flags

    def scopes(self) -> list[str]:
        """The scopes this user may hold: admin only for admins."""
        return [s.value for s in Scope if s not in (Scope.ADMIN, Scope.MAIL) or self.is_admin]

    # --- profile and permissions -------------------------------------------

    def rename(self, name: str, actor: Actor, correlation_id: str) -> None:
        name = name.strip()
        if not name:
            raise InvalidValueError("name", "name must not be empty")
        if name != self.name:
            self._renamed(name=name, actor=actor.ref, correlation_id=correlation_id)

    @event("Renamed", topic="ledgerdesk:User.Renamed")
    def _renamed(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name

    def change_role(self, role: CompanyRole, actor: Actor, correlation_id: str) -> None:
        if role.value != self.role:
            self._role_changed(role=role.value, actor=actor.ref, correlation_id=correlation_id)

    @event("RoleChanged", topic="ledgerdesk:User.RoleChanged")
    def _role_changed(self, role: str, actor: str, correlation_id: str) -> None:
        self.role = role

    def change_apps(self, apps: Apps, actor: Actor, correlation_id: str) -> None:
        if apps.value != self.apps:
            self._apps_changed(apps=apps.value, actor=actor.ref, correlation_id=correlation_id)

    @event("AppsChanged", topic="ledgerdesk:User.AppsChanged")
    def _apps_changed(self, apps: str, actor: str, correlation_id: str) -> None:
        self.apps = apps

    def change_flags(self, flags: list[str], actor: Actor, correlation_id: str) -> None:
        wanted = _flags(flags)
        if wanted != self.flags:
            self._flags_changed(flags=wanted, actor=actor.ref, correlation_id=correlation_id)

    @event("FlagsChanged", topic="ledgerdesk:User.FlagsChanged")
    def _flags_changed(self, flags: list[str], actor: str, correlation_id: str) -> None:
        self.flags = flags

    # --- credentials ----------------------------------------------------------

    def set_password(self, password_hash: str, actor: Actor, correlation_id: str) -> None:
        """Record a new password by its argon2id hash (the password is never stored)."""
        self._check_active()
        self._password_set(
            password_hash=password_hash, actor=actor.ref, correlation_id=correlation_id
        )

    @event("PasswordSet", topic="ledgerdesk:User.PasswordSet")
    def _password_set(self, password_hash: str, actor: str, correlation_id: str) -> None:
        self.password_hash = password_hash

    def change_password(
        self, password_hash: str, keep_session: str | None, actor: Actor, correlation_id: str
    ) -> None:
        """A new password (its hash), checked against the old one by the caller; every other
        session the password opened ends with it (API tokens stay: no password made them)."""
        self.set_password(password_hash, actor, correlation_id)
        for token_id, token in list(self.tokens.items()):
            if token["kind"] == "session" and token_id != keep_session:
                self.revoke_token(token_id, actor, correlation_id)

    def invite(
        self, invitation_sha256: str, expires_at: str, actor: Actor, correlation_id: str
    ) -> None:
        """Issue an invitation (a one-time secret the user redeems to set a password)."""
        self._check_active()
        self._invitation_issued(
            invitation_sha256=invitation_sha256,
            expires_at=expires_at,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event("InvitationIssued", topic="ledgerdesk:User.InvitationIssued")
    def _invitation_issued(
        self, invitation_sha256: str, expires_at: str, actor: str, correlation_id: str
    ) -> None:
        self.invitation_sha256 = invitation_sha256
        self.invitation_expires_at = expires_at

    def accept_invitation(self, password_hash: str, actor: Actor, correlation_id: str) -> None:
        self._check_active()
        self._invitation_accepted(actor=actor.ref, correlation_id=correlation_id)
        self.set_password(password_hash, actor, correlation_id)

    @event("InvitationAccepted", topic="ledgerdesk:User.InvitationAccepted")
    def _invitation_accepted(self, actor: str, correlation_id: str) -> None:
        self.invitation_sha256 = None
        self.invitation_expires_at = None

    def issue_token(
        self,
        *,
        token_id: str,
        secret_sha256: str,
        label: str,
        kind: str,
        scopes: list[str],
        expires_at: str | None,
        actor: Actor,
        correlation_id: str,
    ) -> None:
        """Record a bearer token by the hash of its secret (the secret is never stored)."""
        self._check_active()
        allowed = self.scopes()
        wanted = sorted({Scope(s).value for s in scopes}) if scopes else allowed
        if not set(wanted) <= set(allowed):
            raise InvalidValueError("scopes", "only admins may hold the admin scope")
        self._token_issued(
            token_id=token_id,
            secret_sha256=secret_sha256,
            label=label,
            kind=kind,
            scopes=wanted,
            expires_at=expires_at,
            actor=actor.ref,
            correlation_id=correlation_id,
        )

    @event(TokenIssued)
    def _token_issued(
        self,
        token_id: str,
        secret_sha256: str,
        label: str,
        kind: str,
        scopes: list[str],
        expires_at: str | None,
        actor: str,
        correlation_id: str,
    ) -> None:
        self.tokens[token_id] = {
            "secret_sha256": secret_sha256,
            "label": label,
            "kind": kind,
            "scopes": scopes,
            "expires_at": expires_at,
        }

    def revoke_token(self, token_id: str, actor: Actor, correlation_id: str) -> None:
        if token_id not in self.tokens:
            raise TokenNotFoundError(token_id)
        self._token_revoked(token_id=token_id, actor=actor.ref, correlation_id=correlation_id)

    @event("TokenRevoked", topic="ledgerdesk:User.TokenRevoked")
    def _token_revoked(self, token_id: str, actor: str, correlation_id: str) -> None:
        del self.tokens[token_id]

    # --- activity -------------------------------------------------------------

    def deactivate(self, actor: Actor, correlation_id: str) -> None:
        """Deactivate: every token stops working and the user cannot log in."""
        if actor == Actor.user(self.id):
            raise CannotDeactivateSelfError
        if self.is_active:
            self._deactivated(actor=actor.ref, correlation_id=correlation_id)

    @event("Deactivated", topic="ledgerdesk:User.Deactivated")
    def _deactivated(self, actor: str, correlation_id: str) -> None:
        self.is_active = False

    def reactivate(self, actor: Actor, correlation_id: str) -> None:
        if not self.is_active:
            self._reactivated(actor=actor.ref, correlation_id=correlation_id)

    @event("Reactivated", topic="ledgerdesk:User.Reactivated")
    def _reactivated(self, actor: str, correlation_id: str) -> None:
        self.is_active = True

    def _check_active(self) -> None:
        if not self.is_active:
            raise UserDeactivatedError(self.email)
