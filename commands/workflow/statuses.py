"""Statuses per item type: read by staff, changed by admins; kept in the write model (one
small aggregate), so a change holds in every process at once. Every command that gives an
item a status takes it from its type's statuses (`lifecycle_for`).

Moving the items of a renamed or retired status is the workflow worker's: it follows
`Statuses.Configured` and changes each item's status, as events
(`StatusService.move_items`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from commands.application import LedgerDesk
from commands.models import Context
from commands.unit_of_work import UnitOfWork, run
from commands.users import require_admin
from domain.errors import InvalidValueError
from domain.intake.item_types import ITEM_TYPES_ID, ItemTypeNotFoundError, ItemTypes, current
from domain.item_numbers import item_id
from domain.values import Actor, Lifecycle
from domain.work_item import WorkItem
from domain.workflow.statuses import (
    SHIPPED,
    STATUSES_ID,
    Statuses,
    StatusNotFoundError,
    lifecycle_of,
    shipped,
    waiting_names,
)

WORKFLOW_ACTOR = Actor.system("workflow")
# How many items of a status a retirement may leave without a replacement: none.
InUse = Callable[[str, str], int]


def item_types(uow: UnitOfWork, in_use: bool = False) -> dict[str, str]:
    """Every item type (retired ones too: their items keep their statuses; with `in_use`,
    only those not retired): key -> kind."""
    found = current(uow.get(ITEM_TYPES_ID, ItemTypes))
    return {key: t["kind"] for key, t in found.items() if not (in_use and t["retired"])}


def with_statuses(uow: UnitOfWork) -> dict[str, str]:
    """The item types that have statuses of their own (every type of tickets, and `task`,
    whose statuses every task takes): key -> kind."""
    return {k: v for k, v in item_types(uow).items() if v == "ticket" or k == "task"}


def _kind(uow: UnitOfWork, item_type: str) -> str:
    kind = item_types(uow).get(item_type)
    if kind is None:
        raise ItemTypeNotFoundError(item_type)
    return kind


def _configurable(uow: UnitOfWork, item_type: str) -> str:
    """The kind of `item_type`, if its statuses are its own: every task takes the `task`
    type's statuses (whatever its type), so another type of tasks has none to change."""
    kind = _kind(uow, item_type)
    if kind == "task" and item_type != "task":
        raise InvalidValueError(
            "item_type", "every task takes the statuses of the `task` type: change those"
        )
    return kind


def _changed(statuses: Statuses) -> list[Any]:
    """`statuses` to save if a change was recorded (a change that changes nothing saves
    nothing, not even the aggregate's start)."""
    recorded = any(type(e).__name__ == "Configured" for e in statuses.pending_events)
    return [statuses] if recorded else []


def lifecycle_for(uow: UnitOfWork, item_type: str, kind: str) -> Lifecycle:
    """The statuses an item of `item_type` (of `kind`) may take now."""
    stored = uow.get(STATUSES_ID, Statuses)
    if stored is None or item_type not in stored.lists:
        return SHIPPED[kind]
    return lifecycle_of(stored.lists[item_type])


def type_statuses(uow: UnitOfWork, item_type: str, kind: str) -> list[dict[str, Any]]:
    """Type `item_type`'s statuses in order, retired ones too: as configured, or shipped."""
    stored = uow.get(STATUSES_ID, Statuses)
    return stored.of_type(item_type, kind) if stored else shipped(item_type, kind)


def statuses_of_type(uow: UnitOfWork, item_type: str) -> tuple[str, str, list[dict[str, Any]]]:
    """The statuses items of `item_type` take (every task takes the `task` type's), with
    the type and kind they are kept under."""
    kind = item_types(uow).get(item_type, "ticket")
    keyed = item_type if kind == "ticket" else "task"
    return keyed, kind, type_statuses(uow, keyed, kind)


def status_named(uow: UnitOfWork, item_type: str, name: str) -> str | None:
    """The status in use that `name` leads to for items of `item_type`: a status so named
    now, else one so named before (renamed since); a retired one followed to its
    replacement, or its state's default. None: no status of the type ever had the name."""
    keyed, kind, listed = statuses_of_type(uow, item_type)
    wanted = name.casefold()
    found = next((s for s in listed if s["name"].casefold() == wanted), None)
    if found is None:
        found = next(
            (s for s in listed if wanted in {f.casefold() for f in s.get("former_names", [])}),
            None,
        )
    if found is None:
        return None
    if not found["retired"]:
        return str(found["name"])
    stored = uow.get(STATUSES_ID, Statuses)
    led = stored.resolve(keyed, kind, found["id"]) if stored is not None else None
    return str(led["name"]) if led is not None else None


def names_of(uow: UnitOfWork, item_type: str, name: str) -> list[str]:
    """`name` (a status an item of `item_type` is in) and what that status was called
    before: a rule written with a former name still finds its items."""
    _, _, listed = statuses_of_type(uow, item_type)
    found = next((s for s in listed if s["name"] == name), None)
    return [name, *(found.get("former_names", []) if found is not None else [])]


def waiting_for(uow: UnitOfWork, item_type: str, kind: str) -> frozenset[str]:
    """The status names (case-folded) in which an item of `item_type` waits on its
    customer, former names included (an SLA's pause)."""
    return waiting_names(type_statuses(uow, item_type, kind))


def lifecycle_of_item(uow: UnitOfWork, item: WorkItem) -> Lifecycle:
    """The statuses `item` may take now (those of its type)."""
    item_type = getattr(item, "item_type", item.KIND)
    return lifecycle_for(uow, item_type, item.KIND)


def _statuses(uow: UnitOfWork, ctx: Context) -> Statuses:
    return uow.get(STATUSES_ID, Statuses) or Statuses.start(ctx.actor.ref, ctx.correlation_id)


def shown(item_type: str, statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A type's statuses for an answer: with the type and each one's position."""
    return [{**s, "item_type": item_type, "position": i} for i, s in enumerate(statuses)]


class StatusService:
    def __init__(self, app: LedgerDesk) -> None:
        self.app = app

    def of_type(self, item_type: str) -> list[dict[str, Any]]:
        """Type `item_type`'s statuses in order, retired ones too (a type of tasks other
        than `task`: those of `task`, which its tasks take)."""
        uow = UnitOfWork(self.app)
        kind = _kind(uow, item_type)
        if kind == "task":
            item_type = "task"
        return shown(item_type, type_statuses(uow, item_type, kind))

    def board(self, kind: str) -> tuple[Lifecycle, list[str]]:
        """The columns of a board of `kind` (ticket or task): the statuses in use of the type
        named like the kind, in order; and the order of the statuses of the kind's other
        types (by type key) that it does not have, for the columns of the items in them."""
        uow = UnitOfWork(self.app)
        main = lifecycle_for(uow, kind, kind)
        known = {s.name for s in main.statuses}
        others: list[str] = []
        if kind == "ticket":
            kinds = item_types(uow)
            for item_type in sorted(k for k, v in kinds.items() if v == kind and k != kind):
                for s in lifecycle_for(uow, item_type, kind).statuses:
                    if s.name not in known:
                        known.add(s.name)
                        others.append(s.name)
        return main, others

    def status(self, status_id: str) -> dict[str, Any]:
        uow = UnitOfWork(self.app)
        for item_type, kind in with_statuses(uow).items():
            listed = shown(item_type, type_statuses(uow, item_type, kind))
            found = next((s for s in listed if s["id"] == status_id), None)
            if found is not None:
                return found
        raise StatusNotFoundError(status_id)

    def add(self, item_type: str, given: dict[str, Any], ctx: Context) -> tuple[str, int]:
        """A new status of `item_type`; its id and the log position."""
        new_id = str(uuid.uuid4())

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "configure statuses")
            statuses = _statuses(uow, ctx)
            kind = _configurable(uow, item_type)
            statuses.add(item_type, kind, new_id, given, ctx.actor.ref, ctx.correlation_id)
            return _changed(statuses)

        return new_id, run(self.app, STATUSES_ID, decide)[1]

    def change(self, status_id: str, given: dict[str, Any], ctx: Context) -> int:
        """Rename, recolour, move or make the default what `given` says; a renamed status's
        items follow (the worker)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "configure statuses")
            statuses = _statuses(uow, ctx)
            item_type, _ = statuses.find(with_statuses(uow), status_id)
            kind = _configurable(uow, item_type)
            statuses.change(item_type, kind, status_id, given, ctx.actor.ref, ctx.correlation_id)
            return _changed(statuses)

        return run(self.app, STATUSES_ID, decide)[1]

    def retire(self, status_id: str, replacement: str | None, in_use: InUse, ctx: Context) -> int:
        """Retire a status; the items in it move to `replacement`, which is required while
        any item is in it (`in_use(item_type, name)`: how many are)."""

        def decide(uow: UnitOfWork) -> list[Any]:
            require_admin(uow, ctx, "configure statuses")
            statuses = _statuses(uow, ctx)
            item_type, found = statuses.find(with_statuses(uow), status_id)
            if replacement is None and not found["retired"]:
                count = in_use(item_type, found["name"])
                if count:
                    raise InvalidValueError(
                        "replacement",
                        f"{count} item(s) are in {found['name']!r}: name the status they move"
                        " to (replacement)",
                    )
            kind = _configurable(uow, item_type)
            statuses.retire(
                item_type, kind, status_id, replacement, ctx.actor.ref, ctx.correlation_id
            )
            return _changed(statuses)

        return run(self.app, STATUSES_ID, decide)[1]

    def move_item(self, number: int, moves: dict[str, str], correlation_id: str) -> None:
        """Item `number`, if it is in a status name `moves` names that is no longer in use:
        to the status it moves to as that status is now (renamed again, or retired and
        replaced since, followed on), as the workflow. Nothing if it left that status, or
        the name is in use again."""

        def decide(uow: UnitOfWork) -> list[Any]:
            item = uow.item(number)
            target_id = moves.get(item.status)
            if target_id is None or getattr(item, "converted_to", None):
                return []
            lifecycle = lifecycle_of_item(uow, item)
            if any(s.name == item.status for s in lifecycle.statuses):
                return []  # In use (again): where it is is a status of its type.
            item_type = getattr(item, "item_type", item.KIND)
            stored = uow.get(STATUSES_ID, Statuses)
            target = stored.resolve(item_type, item.KIND, target_id) if stored else None
            if target is None:
                return []
            item.change_status(target["name"], WORKFLOW_ACTOR, correlation_id, lifecycle)
            return [item]

        run(self.app, item_id(number), decide)
