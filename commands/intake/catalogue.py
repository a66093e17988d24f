"""Admins define item types and web forms; everyone reads them from the write model (a few
dozen at most), so a change holds in every process at once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands.access import load_project
from commands.application import LedgerDesk
from commands.folders import load_folder
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
from domain.errors import ConflictError, InvalidValueError
from domain.intake.forms import WEB_FORMS_ID, FormNotFoundError, WebForms, checked_form
from domain.intake.item_types import (
    BUILTIN,
    ITEM_TYPES_ID,
    ItemTypeNotFoundError,
    ItemTypes,
    checked_definition,
    current,
    customer_choosable,
)


class ItemTypeExistsError(ConflictError):
    def __init__(self, key: str) -> None:
        super().__init__(f"an item type {key!r} exists already")


class FormExistsError(ConflictError):
    def __init__(self, key: str) -> None:
        super().__init__(f"a form {key!r} exists already")


def _types(uow: UnitOfWork, ctx: Context) -> ItemTypes:
    return uow.get(ITEM_TYPES_ID, ItemTypes) or ItemTypes.start(ctx.actor.ref, ctx.correlation_id)


def _forms(uow: UnitOfWork, ctx: Context) -> WebForms:
    return uow.get(WEB_FORMS_ID, WebForms) or WebForms.start(ctx.actor.ref, ctx.correlation_id)


def _check_place(uow: UnitOfWork, ctx: Context, definition: dict[str, Any]) -> None:
    """The project (and folder) a type puts its items in exist."""
    if definition["project_id"] is not None:
        project = load_project(uow, UUID(definition["project_id"]), ctx)
        if definition["folder_id"] is not None:
            load_folder(uow, UUID(definition["folder_id"]), project.id)


class IntakeCatalogue:
    """Item types and web forms: read by anyone, changed by admins."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    # --- reading --------------------------------------------------------------------------

    def item_types(self) -> dict[str, dict[str, Any]]:
        return current(UnitOfWork(self.app).get(ITEM_TYPES_ID, ItemTypes))

    def item_type(self, key: str) -> dict[str, Any]:
        found = self.item_types().get(key)
        if found is None:
            raise ItemTypeNotFoundError(key)
        return found

    def forms(self) -> dict[str, dict[str, Any]]:
        stored = UnitOfWork(self.app).get(WEB_FORMS_ID, WebForms)
        return dict(stored.forms) if stored is not None else {}

    def form(self, key: str) -> dict[str, Any]:
        found = self.forms().get(key)
        if found is None:
            raise FormNotFoundError(key)
        return found

    # --- item types -----------------------------------------------------------------------

    def define_item_type(self, key: str, given: dict[str, Any], ctx: Context) -> int:
        """A new item type of `kind` (`ticket` or `task`) with its fields and place."""
        kind = given.get("kind", "ticket")
        if kind not in ("ticket", "task"):
            raise InvalidValueError("kind", "ticket or task")
        base = {
            "key": key, "name": "", "kind": kind, "fields": [{"key": "title", "required": True},
            {"key": "description", "required": False}], "project_id": None, "folder_id": None,
            "customer_visible": kind == "ticket", "retired": False, "builtin": False,
        }  # fmt: skip
        if "name" not in given:
            raise InvalidValueError("name", "required")
        definition = checked_definition(key, given, base)

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "define item types")
            types = _types(uow, ctx)
            if key in current(types):
                raise ItemTypeExistsError(key)
            _check_place(uow, ctx, definition)
            types.define(definition, ctx.actor.ref, ctx.correlation_id)
            return [types]

        return run(self.app, ITEM_TYPES_ID, decide)[1]

    def change_item_type(self, key: str, given: dict[str, Any], ctx: Context) -> int:
        """Change a type's name, fields, place or whether customers may choose it."""
        if "kind" in given:
            raise InvalidValueError("kind", "a type's kind never changes")

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change item types")
            types = _types(uow, ctx)
            base = current(types).get(key)
            if base is None:
                raise ItemTypeNotFoundError(key)
            definition = checked_definition(key, given, base)
            _check_place(uow, ctx, definition)
            types.define(definition, ctx.actor.ref, ctx.correlation_id)
            return [types]

        return run(self.app, ITEM_TYPES_ID, decide)[1]

    def retire_item_type(self, key: str, ctx: Context) -> int:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "retire item types")
            types = _types(uow, ctx)
            types.retire(key, ctx.actor.ref, ctx.correlation_id)
            return [types]

        return run(self.app, ITEM_TYPES_ID, decide)[1]

    def reset_item_type(self, key: str, ctx: Context) -> int:
        """A shipped type back to its defaults (retired or not)."""
        if key not in BUILTIN:
            raise ItemTypeNotFoundError(key)

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "change item types")
            types = _types(uow, ctx)
            types.define(dict(BUILTIN[key]), ctx.actor.ref, ctx.correlation_id)
            return [types]

        return run(self.app, ITEM_TYPES_ID, decide)[1]

    # --- forms ----------------------------------------------------------------------------

    def define_form(self, key: str, given: dict[str, Any], ctx: Context, new: bool) -> int:
        """A new form (`new`), or a change to one; its item type is one customers may open."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "define web forms")
            forms = _forms(uow, ctx)
            base = forms.forms.get(key)
            if new and base is not None:
                raise FormExistsError(key)
            if not new and base is None:
                raise FormNotFoundError(key)
            definition = checked_form(key, given, base)
            if base is None or definition["item_type"] != base["item_type"]:
                # Checked when chosen: a form whose type changed since can still be edited
                # (switched off, say); its page says it takes nothing meanwhile.
                kind = current(uow.get(ITEM_TYPES_ID, ItemTypes)).get(definition["item_type"])
                if kind is None or not customer_choosable(kind):
                    raise InvalidValueError(
                        "item_type", "an item type of tickets that customers may choose"
                    )
            forms.define(definition, ctx.actor.ref, ctx.correlation_id)
            return [forms]

        return run(self.app, WEB_FORMS_ID, decide)[1]

    def delete_form(self, key: str, ctx: Context) -> int:
        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "delete web forms")
            forms = _forms(uow, ctx)
            forms.delete(key, ctx.actor.ref, ctx.correlation_id)
            return [forms]

        return run(self.app, WEB_FORMS_ID, decide)[1]
