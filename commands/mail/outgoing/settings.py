"""Admins' mail settings and templates: read with the defaults filled in, changed by admins
only; the SMTP password sealed on the way in and never given back; a template checked by
rendering it with sample data before it is saved."""

from __future__ import annotations

from typing import Any

from commands.application import LedgerDesk
from commands.credentials import Credentials
from commands.mail.outgoing.smtp import PlaintextPasswordError, SmtpServer
from commands.mail.outgoing.templates import (
    Rendered,
    check,
    default,
    parts_of,
    render,
    sample_context,
)
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
from domain.mail.settings import DEFAULTS, MAIL_SETTINGS_ID, MailSettings, company_of, filled
from domain.mail.templates import LAYOUT, TEMPLATE_KINDS, MailTemplate, template_id_for


class MailSettingsService:
    def __init__(self, app: LedgerDesk, credentials: Credentials) -> None:
        self.app = app
        self.credentials = credentials

    # --- settings ------------------------------------------------------------------------

    def current(self) -> dict[str, Any]:
        """The settings in force (defaults where admins set nothing)."""
        stored = UnitOfWork(self.app).get(MAIL_SETTINGS_ID, MailSettings)
        return filled(stored.values) if stored is not None else dict(DEFAULTS)

    def set_logo(self, logo: dict[str, str] | None, logo_url: str | None, ctx: Context) -> int:
        """Use an uploaded logo (`{"sha256", "media_type"}`, served at `logo_url`), or none
        (None); the other settings stay. Admins only."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change the branding")
            stored = uow.get(MAIL_SETTINGS_ID, MailSettings)
            values = filled(stored.values) if stored is not None else dict(DEFAULTS)
            values.update(logo=logo, logo_url=logo_url)
            if stored is None:
                return [MailSettings.first(values, ctx.actor, ctx.correlation_id)]
            stored.change(values, ctx.actor, ctx.correlation_id)
            return [stored]

        return run(self.app, MAIL_SETTINGS_ID, decide)[1]

    def logo(self) -> dict[str, str] | None:
        """The uploaded logo in use, if any."""
        found: dict[str, str] | None = self.current().get("logo")
        return found

    def shown(self) -> dict[str, Any]:
        """The settings as the API shows them: the SMTP password never, only whether set."""
        values = self.current()
        values.pop("logo", None)  # (where it is served is `logo_url`)
        smtp = values.get("smtp")
        if smtp is not None:
            token = smtp.get("password_token")
            values["smtp"] = {
                **{k: v for k, v in smtp.items() if k != "password_token"},
                "password_set": token is not None,
            }
        return values

    def smtp_server(self) -> SmtpServer | None:
        smtp = self.current().get("smtp")
        if smtp is None:
            return None
        token = smtp.get("password_token")
        return SmtpServer(
            host=smtp["host"],
            port=smtp["port"],
            security=smtp["security"],
            user=smtp.get("user"),
            password=self.credentials.open(token) if token else None,
            from_address=smtp.get("from_address"),
            from_name=smtp.get("from_name"),
        )

    def change(self, values: dict[str, Any], ctx: Context) -> int:
        """Set every mail setting at once (PUT); an SMTP server given without a password
        keeps the stored one; one that would get a password in plain text is refused."""
        _check_no_plaintext_password(values.get("smtp"))

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change the mail settings")
            stored = uow.get(MAIL_SETTINGS_ID, MailSettings)
            before = stored.values if stored is not None else DEFAULTS
            new = {**DEFAULTS, **values, "smtp": self._sealed(values.get("smtp"), before)}
            # An uploaded logo stays while its address does (a PUT that leaves it as it was).
            same_logo = before.get("logo") and values.get("logo_url") == before.get("logo_url")
            new["logo"] = before.get("logo") if same_logo else None
            if stored is None:
                return [MailSettings.first(new, ctx.actor, ctx.correlation_id)]
            stored.change(new, ctx.actor, ctx.correlation_id)
            return [stored]

        return run(self.app, MAIL_SETTINGS_ID, decide)[1]

    def _sealed(self, smtp: dict[str, Any] | None, before: dict[str, Any]) -> dict[str, Any] | None:
        if smtp is None:
            return None
        smtp = dict(smtp)
        password = smtp.pop("password", None)
        if password:
            smtp["password_token"] = self.credentials.seal(password)
        else:
            # Kept only for the same account on the same server: a stored password is never
            # sent to a host it was not given for.
            old = before.get("smtp") or {}
            same = all(smtp.get(k) == old.get(k) for k in ("host", "port", "security", "user"))
            smtp["password_token"] = (
                old.get("password_token") if same and smtp.get("user") else None
            )
        return smtp

    # --- templates -----------------------------------------------------------------------

    def templates(self) -> list[dict[str, Any]]:
        return [self.template(kind) for kind in TEMPLATE_KINDS]

    def template(self, kind: str) -> dict[str, Any]:
        """A kind's templates in force, and whether admins changed them."""
        stored = UnitOfWork(self.app).get(template_id_for(kind), MailTemplate)
        parts = stored.parts if stored is not None and stored.parts is not None else None
        return {
            "kind": kind,
            "overridden": parts is not None,
            **(parts or default(kind)),
            "defaults": default(kind),
        }

    def override(self, kind: str, parts: dict[str, str], ctx: Context) -> int:
        """Use `parts` for `kind` from now on; a TemplateProblem (422) if one does not
        compile or render with sample data."""
        checked = check(kind, parts, sample_context(kind, self._company()))

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change mail templates")
            template = uow.get(template_id_for(kind), MailTemplate)
            if template is None:
                template = MailTemplate.start(kind, ctx.actor, ctx.correlation_id)
            template.override(checked, ctx.actor, ctx.correlation_id)
            return [template]

        return run(self.app, template_id_for(kind), decide)[1]

    def reset(self, kind: str, ctx: Context) -> int:
        """Go back to the shipped templates of `kind`."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change mail templates")
            template = uow.get(template_id_for(kind), MailTemplate)
            if template is None:
                return []
            template.reset(ctx.actor, ctx.correlation_id)
            return [template]

        return run(self.app, template_id_for(kind), decide)[1]

    def preview(self, kind: str, parts: dict[str, str] | None) -> Rendered:
        """`kind` rendered with sample data: with `parts` (a draft) or the templates in
        force; a TemplateProblem (422) names the part and line that fails."""
        parts_of(kind)
        company = self._company()
        context = sample_context(kind, company)
        uow = UnitOfWork(self.app)
        layout_stored = uow.get(template_id_for(LAYOUT), MailTemplate)
        layout = layout_stored.parts if layout_stored is not None else None
        if kind == LAYOUT:
            layout = check(kind, parts, context) if parts else layout
            return render(
                "acknowledgement", sample_context("acknowledgement", company), None, layout
            )
        if parts:
            own: dict[str, str] | None = check(kind, parts, context)
        else:
            stored = uow.get(template_id_for(kind), MailTemplate)
            own = stored.parts if stored is not None else None
        return render(kind, context, own, layout)

    def _company(self) -> dict[str, Any]:
        return company_of(self.current())


def _check_no_plaintext_password(smtp: dict[str, Any] | None) -> None:
    if smtp is None:
        return
    server = SmtpServer(
        host=smtp["host"],
        port=smtp["port"],
        security=smtp["security"],
        user=smtp.get("user"),
        password=smtp.get("password"),
    )
    if server.sends_password_in_plain_text:
        raise PlaintextPasswordError("smtp.security", server.host)
