"""Admins switch apps and features on and off; everyone's requests read the switches from
the write model, so a change holds in every process at once, without a restart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from commands.application import LedgerDesk
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
from domain.automated_messages import checked_text, message
from domain.company_settings import (
    COMPANY_SETTINGS_ID,
    ITEM_APPS,
    AppSwitchedOffError,
    CompanySettings,
    checked_changes,
    in_force,
)


def kind_on(uow: UnitOfWork, kind: str) -> bool:
    """Whether the app of a `kind` of item (ticket, task) is on."""
    return in_force(uow.get(COMPANY_SETTINGS_ID, CompanySettings))["apps"][ITEM_APPS[kind]]


def require_kind_on(uow: UnitOfWork, kind: str) -> None:
    """Refuse (404) to make a `kind` of item while its app is switched off: whichever way it
    would come in (a form, a chat, mail, an import, a recurrence), not only by its routes."""
    if not kind_on(uow, kind):
        raise AppSwitchedOffError(f"{ITEM_APPS[kind]} app")


class CompanySettingsService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def current(self) -> dict[str, dict[str, bool]]:
        return in_force(UnitOfWork(self.app).get(COMPANY_SETTINGS_ID, CompanySettings))

    def app_on(self, name: str) -> bool:
        return self.current()["apps"][name]

    def kind_on(self, kind: str) -> bool:
        """Whether the app of a `kind` of item (ticket, task) is on."""
        return self.app_on(ITEM_APPS[kind])

    def feature_on(self, name: str) -> bool:
        return self.current()["features"][name]

    def require_app(self, name: str, label: str) -> None:
        if not self.app_on(name):
            raise AppSwitchedOffError(label)

    def messages(self) -> dict[str, str]:
        """The automated messages admins wrote (key -> text); the others say the shipped."""
        stored = UnitOfWork(self.app).get(COMPANY_SETTINGS_ID, CompanySettings)
        return dict(stored.messages) if stored is not None else {}

    def set_message(self, key: str, text: str, ctx: Context) -> int:
        """Automated message `key` says `text` (admins only); the log position."""
        checked = checked_text(key, text)
        return self._write(ctx, "edit the automated messages", lambda s: s.set_message(
            key, checked, ctx.actor, ctx.correlation_id
        ))  # fmt: skip

    def reset_message(self, key: str, ctx: Context) -> int:
        """Automated message `key` says the shipped text again (admins only)."""
        message(key)
        return self._write(ctx, "edit the automated messages", lambda s: s.reset_message(
            key, ctx.actor, ctx.correlation_id
        ))  # fmt: skip

    def _write(self, ctx: Context, what: str, change: Callable[[CompanySettings], None]) -> int:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, what)
            stored = uow.get(COMPANY_SETTINGS_ID, CompanySettings)
            started = stored is None
            if stored is None:
                stored = CompanySettings.start(ctx.actor, ctx.correlation_id)
            change(stored)
            if started and len(stored.pending_events) == 1:
                return []  # Nothing changed: the settings are not saved for it.
            return [stored]

        return run(self.app, COMPANY_SETTINGS_ID, decide)[1]

    def change(self, apps: dict[str, Any], features: dict[str, Any], ctx: Context) -> int:
        """Switch apps and features (admins only); the log position of the change."""
        changes = checked_changes(apps, features)
        return self._write(ctx, "change the company settings", lambda s: s.change(
            changes, ctx.actor, ctx.correlation_id
        ))  # fmt: skip
