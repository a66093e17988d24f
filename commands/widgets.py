"""Admins define the embeddable widgets; websites read a widget's public face and our frame
follows its allowed sites (the tabs come from `domain.widgets.tabs` over the switches in
force, `CompanySettingsService.current`). Every
read is of the write model, so a change holds in every process at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
from domain.widgets import (
    WIDGETS_ID,
    WidgetNotFoundError,
    Widgets,
    allowed_origins,
    checked_widget,
    live_widgets,
)


@dataclass(frozen=True)
class Widget:
    """A widget as its admins and its frame see it."""

    id: UUID
    name: str
    allowed_origins: list[str]


def _widget(widget_id: str | UUID, definition: dict[str, Any]) -> Widget:
    return Widget(UUID(str(widget_id)), definition["name"], list(definition["allowed_origins"]))


class WidgetService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def _stored(self) -> Widgets | None:
        return UnitOfWork(self.app).get(WIDGETS_ID, Widgets)

    def all(self) -> list[Widget]:
        widgets = live_widgets(self._stored())
        return sorted((_widget(k, v) for k, v in widgets.items()), key=lambda w: w.name.lower())

    def get(self, widget_id: UUID) -> Widget:
        """The widget (WidgetNotFoundError if there is none, or it was removed)."""
        stored = self._stored()
        if stored is None:
            raise WidgetNotFoundError(widget_id)
        return _widget(widget_id, stored.get(widget_id))

    def origins(self) -> frozenset[str]:
        """Every site some widget may be shown on (CORS)."""
        return allowed_origins(self._stored())

    def create(self, given: dict[str, Any], ctx: Context) -> tuple[Widget, int]:
        widget_id = uuid.uuid4()
        return self._define(widget_id, given, ctx, new=True)

    def change(self, widget_id: UUID, given: dict[str, Any], ctx: Context) -> tuple[Widget, int]:
        return self._define(widget_id, given, ctx, new=False)

    def _define(
        self, widget_id: UUID, given: dict[str, Any], ctx: Context, *, new: bool
    ) -> tuple[Widget, int]:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "define widgets")
            stored = uow.get(WIDGETS_ID, Widgets)
            if stored is None:
                stored = Widgets.start(ctx.actor.ref, ctx.correlation_id)
            base = None if new else stored.get(widget_id)
            definition = checked_widget(given, base)
            stored.define(widget_id, definition, ctx.actor.ref, ctx.correlation_id)
            return [stored]

        saved, position = run(self.app, WIDGETS_ID, decide)
        return _widget(widget_id, saved[0].get(widget_id)), position

    def remove(self, widget_id: UUID, ctx: Context) -> int:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "remove widgets")
            stored = uow.get(WIDGETS_ID, Widgets)
            if stored is None:
                raise WidgetNotFoundError(widget_id)
            stored.remove(widget_id, ctx.actor.ref, ctx.correlation_id)
            return [stored]

        return run(self.app, WIDGETS_ID, decide)[1]
