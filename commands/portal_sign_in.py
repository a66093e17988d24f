"""How a customer signs in to the portal's pages: by redeeming an invitation and choosing a
password there, then by email and password. Each gives a portal session token, the same
kind the portal API takes, which the pages keep in a cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, SecretStr

from commands.application import LedgerDesk
from commands.models import Command, Context
from commands.passwords import hash_password, verify_password
from commands.portal import (
    INVITATION_PREFIX,
    SIGN_IN_LINK_PREFIX,
    contact_hex_id,
    format_session,
    holder_of,
    secret_digest,
)
from commands.unit_of_work import UnitOfWork, run
from commands.users import new_token_parts
from domain.contact import Contact, contact_id_for
from domain.errors import InvalidCredentialsError, InvalidEmailError
from domain.values import Actor


class AcceptPortalInvitation(Command):
    invitation: SecretStr = Field(min_length=1, max_length=500)
    password: SecretStr = Field(min_length=10, max_length=1024)


class PortalLogIn(Command):
    email: str = Field(max_length=320)
    password: SecretStr = Field(min_length=1, max_length=1024)


def invited_contact(uow: UnitOfWork, invitation: str) -> Contact:
    """The contact a pending, unexpired invitation is for (nothing is redeemed)."""
    contact, digest = holder_of(uow, invitation, INVITATION_PREFIX)
    contact.check_invitation(digest, datetime.now(UTC))
    return contact


def linked_contact(uow: UnitOfWork, link: str) -> Contact:
    """The contact a pending, unexpired sign-in link is for (nothing is redeemed)."""
    contact, digest = holder_of(uow, link, SIGN_IN_LINK_PREFIX)
    contact.check_sign_in_link(digest, datetime.now(UTC))
    return contact


def accept_portal_invitation(
    cmd: AcceptPortalInvitation,
    uow: UnitOfWork,
    ctx: Context,
    session: tuple[str, str],
    ttl: timedelta,
) -> list[Any]:
    """Redeem the invitation, set the password, start a session: one atomic write."""
    contact, digest = holder_of(uow, cmd.invitation.get_secret_value(), INVITATION_PREFIX)
    now = datetime.now(UTC)
    contact.check_invitation(digest, now)  # Before the password's (slow) hash.
    actor = Actor.customer(contact.email)
    contact.set_portal_password(
        hash_password(cmd.password.get_secret_value()), actor, ctx.correlation_id
    )
    contact.redeem_portal_invitation(
        invitation_sha256=digest,
        now=now,
        token_id=session[0],
        secret_sha256=secret_digest(session[1]),
        expires_at=(now + ttl).isoformat(),
        actor=actor,
        correlation_id=ctx.correlation_id,
    )
    return [contact]


def portal_log_in(
    cmd: PortalLogIn, uow: UnitOfWork, ctx: Context, session: tuple[str, str], ttl: timedelta
) -> list[Any]:
    """Check an email and password; a session on success. Every failure reads the same."""
    try:
        contact = uow.get(contact_id_for(cmd.email), Contact)
    except InvalidEmailError:
        contact = None
    known = contact.portal_password_hash if contact and contact.user_id is None else None
    if not verify_password(known, cmd.password.get_secret_value()) or contact is None:
        raise InvalidCredentialsError("wrong email or password")
    now = datetime.now(UTC)
    contact.start_portal_session(
        token_id=session[0],
        secret_sha256=secret_digest(session[1]),
        expires_at=(now + ttl).isoformat(),
        actor=Actor.customer(contact.email),
        correlation_id=ctx.correlation_id,
    )
    return [contact]


class PortalSignIn:
    """Signs customers in to the portal's pages; each answer is (contact, session token)."""

    def __init__(self, app: LedgerDesk, session_ttl: timedelta) -> None:
        self.app = app
        self.session_ttl = session_ttl

    def invited(self, invitation: str) -> Contact:
        """Who an invitation is for, if it can still be redeemed (InvalidCredentialsError)."""
        return invited_contact(UnitOfWork(self.app), invitation)

    def linked(self, link: str) -> Contact:
        """Who a sign-in link is for, if it can still be used (InvalidCredentialsError)."""
        return linked_contact(UnitOfWork(self.app), link)

    def accept_invitation(self, cmd: AcceptPortalInvitation, ctx: Context) -> tuple[Contact, str]:
        session = new_token_parts()
        hot = contact_hex_id(cmd.invitation.get_secret_value())
        saved, _ = run(
            self.app,
            hot,
            lambda uow: accept_portal_invitation(cmd, uow, ctx, session, self.session_ttl),
        )
        return saved[0], format_session(saved[0].id, *session)

    def log_in(self, cmd: PortalLogIn, ctx: Context) -> tuple[Contact, str, int]:
        """The contact, their new session token, and the log position of the sign-in."""
        session = new_token_parts()
        try:
            hot = contact_id_for(cmd.email)
        except InvalidEmailError as wrong:
            raise InvalidCredentialsError("wrong email or password") from wrong
        saved, position = run(
            self.app, hot, lambda uow: portal_log_in(cmd, uow, ctx, session, self.session_ttl)
        )
        return saved[0], format_session(saved[0].id, *session), position
