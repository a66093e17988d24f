"""Web form submissions: a signed-in contact's request opens at once (through the portal's
commands); an anonymous sender's is held as a `FormSubmission`, with its confirmation mail
queued in the same write, and opens when they follow the mailed link.

The link's secret is never in the log: the queued mail holds a random nonce, the secret is
an HMAC of it with the install's key (as for portal links), and the submission keeps the
secret's SHA-256."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from pydantic import Field

from commands.application import LedgerDesk
from commands.models import Command, Context, OpenTicket
from commands.portal import (
    CONFIRMATION_PREFIX,
    AccountMailer,
    PortalFile,
    attach_files,
    contact_hex_id,
    derived_secret,
    secret_digest,
    token_parts,
)
from commands.tickets import item_type_for, open_ticket
from commands.unit_of_work import UnitOfWork, run
from domain.company_settings import COMPANY_SETTINGS_ID, CompanySettings, in_force
from domain.errors import InvalidCredentialsError, InvalidValueError, NotFoundError
from domain.intake.forms import WEB_FORMS_ID, FormNotFoundError, WebForms
from domain.intake.item_types import check_submission, customer_choosable, kept_fields
from domain.intake.submissions import FormSubmission
from domain.ticket import Ticket
from domain.values import Actor, Channel, Priority, normalise_email

CONFIRMATION_TTL = timedelta(days=1)


class FormUnavailableError(NotFoundError):
    """The form takes no submissions now (deleted, inactive, its type retired, anonymous
    forms switched off, or no mail to confirm an address with)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the form {key!r} takes no submissions now")


class SubmitForm(Command):
    """What an anonymous sender filled in on form `form` (files already in the blob store)."""

    form: str = Field(max_length=40)
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    values: dict[str, str] = Field(default_factory=dict, max_length=40)
    attachments: list[PortalFile] = Field(default_factory=list, max_length=10)


def open_form(uow: UnitOfWork, key: str, anonymous: bool) -> dict[str, Any]:
    """Form `key` and its item type's definition, if it takes submissions now — from a
    signed-in contact, or (`anonymous`) from anyone, when it and the switches allow it."""
    stored = uow.get(WEB_FORMS_ID, WebForms)
    form = stored.forms.get(key) if stored is not None else None
    if form is None or not form["active"]:
        raise FormUnavailableError(key)
    switches = in_force(uow.get(COMPANY_SETTINGS_ID, CompanySettings))
    if anonymous and not (form["anonymous"] and switches["features"]["anonymous_forms"]):
        raise FormUnavailableError(key)
    try:
        kind = item_type_for(uow, form["item_type"], "ticket")
    except (InvalidValueError, NotFoundError):
        raise FormUnavailableError(key) from None
    if not customer_choosable(kind):
        raise FormUnavailableError(key)
    return {**form, "type": kind}


def receive_submission(
    cmd: SubmitForm,
    uow: UnitOfWork,
    ctx: Context,
    submission_id: UUID,
    secret: str,
    mail: Callable[[FormSubmission, str], Any],
) -> list[Any]:
    """Hold what was sent (checked against the form's type) and queue its confirmation."""
    form = open_form(uow, cmd.form, anonymous=True)
    sent = check_submission(form["type"], cmd.values)
    expires = (datetime.now(UTC) + CONFIRMATION_TTL).isoformat()
    submission = FormSubmission.receive(
        submission_id,
        form=cmd.form,
        item_type=form["type"]["key"],
        email=normalise_email(cmd.email, "email"),
        name=cmd.name.strip(),
        title=sent.title,
        description=sent.description,
        priority=sent.priority,
        fields=sent.values,
        attachments=[f.model_dump() for f in cmd.attachments],
        confirm_sha256=secret_digest(secret),
        expires_at=expires,
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )
    return [submission, mail(submission, expires)]


def submission_of(uow: UnitOfWork, token: str) -> tuple[FormSubmission, str]:
    """The pending submission a confirmation link is for, and its secret's hash."""
    parts = token_parts(token, CONFIRMATION_PREFIX, 2)
    submission = None
    if parts is not None:
        try:
            submission = uow.get(UUID(hex=parts[0]), FormSubmission)
        except ValueError:
            submission = None
    if parts is None or submission is None:
        raise InvalidCredentialsError("the confirmation link is not valid")
    digest = secret_digest(parts[1])
    submission.check_link(digest, datetime.now(UTC))
    return submission, digest


def confirm_submission(token: str, uow: UnitOfWork, ctx: Context) -> list[Any]:
    """Open the request, as its sender (they proved the address), channel `webform`."""
    submission, digest = submission_of(uow, token)
    # The form must still take it as it was sent: not deleted, still anonymous, anonymous
    # forms still on, and of the same type, which customers may still choose.
    form = open_form(uow, submission.form, anonymous=True)
    if form["type"]["key"] != submission.item_type:
        raise FormUnavailableError(submission.form)
    actor = Actor.customer(submission.email)
    as_sender = Context(actor=actor, correlation_id=ctx.correlation_id)
    opened = OpenTicket(
        title=submission.title,
        description=submission.description,
        priority=Priority(submission.priority),
        requester_email=submission.email,
        channel=Channel.WEBFORM,
        item_type=submission.item_type,
        fields=kept_fields(form["type"], submission.fields),
    )
    saved = open_ticket(opened, uow, as_sender, requester_name=submission.name)
    ticket = next(a for a in saved if isinstance(a, Ticket))
    attach_files(ticket, [PortalFile(**f) for f in submission.attachments], as_sender)
    submission.confirm(digest, datetime.now(UTC), ticket.number, actor.ref, ctx.correlation_id)
    return [*saved, submission]


class SubmissionService:
    """Anonymous submissions: held until confirmed, then opened."""

    def __init__(self, app: LedgerDesk, key: bytes, mailer: AccountMailer | None) -> None:
        self.app = app
        self.key = key
        self.mailer = mailer

    def mail_configured(self) -> bool:
        return self.mailer is not None and self.mailer.configured()

    def form(self, key: str, anonymous: bool) -> dict[str, Any]:
        """The form and its type, if it takes submissions now (FormUnavailableError)."""
        if anonymous and not self.mail_configured():
            raise FormUnavailableError(key)
        return open_form(UnitOfWork(self.app), key, anonymous)

    def submit(self, cmd: SubmitForm, ctx: Context) -> int:
        """Hold the submission and mail its confirmation link; the log position."""
        mailer = self.mailer
        if mailer is None or not mailer.configured():
            raise FormUnavailableError(cmd.form)
        nonce = secrets.token_urlsafe(16)
        secret = derived_secret(self.key, "form", nonce)
        submission_id = uuid4()

        def mail(submission: FormSubmission, expires: str) -> Any:
            return mailer.queue_account_mail(
                kind="form_confirmation", contact=submission, nonce=nonce, expires_at=expires,
                ctx=ctx,
            )  # fmt: skip

        return run(
            self.app,
            submission_id,
            lambda uow: receive_submission(cmd, uow, ctx, submission_id, secret, mail),
        )[1]

    def pending(self, token: str) -> FormSubmission:
        """The submission a link confirms, if it still can (InvalidCredentialsError)."""
        return submission_of(UnitOfWork(self.app), token)[0]

    def confirm(self, token: str, ctx: Context) -> tuple[int, int]:
        """Open the held request: its number and the log position."""
        saved, position = run(
            self.app, contact_hex_id(token), lambda uow: confirm_submission(token, uow, ctx)
        )
        number = next(a for a in saved if isinstance(a, Ticket)).number
        return number, position


__all__ = ["FormNotFoundError", "FormUnavailableError", "SubmissionService", "SubmitForm"]
