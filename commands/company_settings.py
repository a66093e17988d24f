"""Admins switch apps and features on and off; everyone's requests read the switches from
the write model, so a change holds in every process at once, without a restart."""

from __future__ import annotations

from typing import Any

from commands.application import LedgerDesk
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
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

    def change(self, apps: dict[str, Any], features: dict[str, Any], ctx: Context) -> int:
        """Switch apps and features (admins only); the log position of the change."""
        changes = checked_changes(apps, features)

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change the company settings")
            stored = uow.get(COMPANY_SETTINGS_ID, CompanySettings)
            if stored is None:
                stored = CompanySettings.start(ctx.actor, ctx.correlation_id)
            stored.change(changes, ctx.actor, ctx.correlation_id)
            return [stored]

        return run(self.app, COMPANY_SETTINGS_ID, decide)[1]
