"""Staff members' inboxes: marking notifications read, and how each kind is told (in the
app, by mail, by push). The notifications themselves are made by the `live` view."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from domain.notifications import (
    Inbox,
    check_ids,
    check_preferences,
    inbox_id_for,
    preferences,
)


class NotificationService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def preferences(self, user_id: UUID) -> dict[str, dict[str, bool]]:
        inbox = UnitOfWork(self.app).get(inbox_id_for(user_id), Inbox)
        return preferences(inbox.preferences if inbox else None)

    def prefer(self, user_id: UUID, changes: Any, ctx: Context) -> tuple[dict[str, Any], int]:
        """Change the channels the body names; every kind's channels after it."""
        checked = check_preferences(changes)

        def decide(uow: UnitOfWork) -> list[Any]:
            inbox = self._inbox(uow, user_id)
            inbox.prefer(checked, ctx.actor.ref, ctx.correlation_id)
            return [inbox]

        saved, position = run(self.app, inbox_id_for(user_id), decide)
        return preferences(saved[0].preferences), position

    def read(self, user_id: UUID, ids: Any, up_to: str | None, ctx: Context) -> int:
        """Notifications read (these `ids`, or all up to `up_to`); the log position."""
        checked = check_ids(ids)

        def decide(uow: UnitOfWork) -> list[Any]:
            inbox = self._inbox(uow, user_id)
            inbox.read(checked, up_to, ctx.actor.ref, ctx.correlation_id)
            return [inbox]

        return run(self.app, inbox_id_for(user_id), decide)[1]

    def _inbox(self, uow: UnitOfWork, user_id: UUID) -> Inbox:
        return uow.get(inbox_id_for(user_id), Inbox) or Inbox.open(user_id)
