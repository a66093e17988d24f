"""Mail about a person's access, not about an item: the invitation to choose a portal
password, the one-time sign-in link, and the link that confirms the address a web form was
sent from.

The link's secret is never in the log: the queued mail holds a random nonce, and the secret
is an HMAC of it with the install's key, made again when the mail is built; the contact's
invitation event holds only the secret's SHA-256, as for an invitation made through the API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands.mail.outgoing.compose import Attached, Envelope, compose
from commands.mail.outgoing.templates import TemplateProblem, render
from commands.models import Context
from commands.portal import (
    Addressee,
    derived_secret,
    format_confirmation,
    format_invitation,
    format_sign_in_link,
)
from domain.mail.addresses import our_message_id
from domain.mail.outgoing import MailKind, OutboundMail, Recipient
from domain.mail.settings import company_of

PATHS = {
    MailKind.PORTAL_INVITATION: "/portal/invite/",
    MailKind.PORTAL_SIGN_IN: "/portal/sign-in/",
    MailKind.FORM_CONFIRMATION: "/forms/confirm/",
}
PURPOSES = {
    MailKind.PORTAL_INVITATION: "invite",
    MailKind.PORTAL_SIGN_IN: "sign-in",
    MailKind.FORM_CONFIRMATION: "form",
}
TOKENS = {
    MailKind.PORTAL_INVITATION: format_invitation,
    MailKind.PORTAL_SIGN_IN: format_sign_in_link,
    MailKind.FORM_CONFIRMATION: format_confirmation,
}

# What a link is about, in the queued mail's context: a contact, or a form submission.
SUBJECT_KEY = {MailKind.FORM_CONFIRMATION: "submission_id"}


def account_mail(
    *,
    kind: MailKind,
    contact: Addressee,
    nonce: str,
    expires_at: str,
    secret: bytes,
    domain: str,
    ctx: Context,
) -> OutboundMail:
    """The mail of `kind` to `contact`, queued (to be saved with the invitation it carries)."""
    key = f"{kind.value}:{contact.id}:{nonce}"
    return OutboundMail.queue(
        key=key,
        kind=kind,
        number=0,
        # A form's sender proved nothing yet: no text of theirs goes into the mail.
        to=Recipient(
            contact.email, "" if kind in SUBJECT_KEY else contact.name, f"customer:{contact.email}"
        ),
        context={
            SUBJECT_KEY.get(kind, "contact_id"): str(contact.id),
            "nonce": nonce,
            "expires_at": expires_at,
        },
        mail_message_id=our_message_id(secret, 0, key, domain),
        actor=ctx.actor,
        correlation_id=ctx.correlation_id,
    )


def link_of(mail: OutboundMail, secret: bytes, public_url: str) -> str:
    kind = MailKind(mail.kind)
    token = TOKENS[kind](
        UUID(mail.context[SUBJECT_KEY.get(kind, "contact_id")]),
        derived_secret(secret, PURPOSES[kind], mail.context["nonce"]),
    )
    return f"{public_url}{PATHS[kind]}{token}"


def compose_account_mail(
    mail: OutboundMail, *, secret: bytes, public_url: str, **fresh: Any
) -> Any:
    """The mail, built for its one recipient (no item, no thread: a fresh conversation);
    `fresh` as `fresh_mail` takes it."""
    expires = mail.context["expires_at"][:16].replace("T", " ") + " UTC"
    return fresh_mail(
        mail, {"link": link_of(mail, secret, public_url), "expires_at": expires}, **fresh
    )


def fresh_mail(
    mail: OutboundMail,
    about: dict[str, Any],
    *,
    branding: dict[str, Any],
    sender: str,
    from_name: str,
    own: dict[str, str] | None,
    layout: dict[str, str] | None,
    now: Any,
    attachments: list[Attached] | None = None,
) -> Any:
    """`mail`, outside any item's thread, rendered for its one recipient with the company,
    the recipient and `about` (its overridden templates, or the shipped ones when those
    fail on real data)."""
    context = {
        "company": company_of(branding),
        "recipient": {"name": mail.recipient_name, "address": mail.recipient},
        "tag": "",
        **about,
    }
    try:
        rendered = render(mail.kind, context, own, layout)
    except TemplateProblem:  # An override that fails on real data: the shipped ones.
        rendered = render(mail.kind, context, None, None)
    envelope = Envelope(
        from_address=sender,
        from_name=from_name,
        to_address=mail.recipient,
        to_name=mail.recipient_name,
        reply_to=sender,
        message_id=mail.mail_message_id,
        auto_submitted=MailKind(mail.kind).auto_submitted(),
    )
    return compose(rendered, envelope, now, attachments or [])
