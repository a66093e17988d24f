"""What automation rules read besides an item's own events: the fields conditions need
that the events do not say (`complete`), and the small aggregates a process reads on every
item event, kept up to date (`Kept`)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.unit_of_work import UnitOfWork
from commands.workflow.statuses import names_of
from domain.contact import Contact, contact_id_for
from domain.intake.item_types import ITEM_TYPES_ID
from domain.sla.item_sla import ItemSla, item_sla_id, overall
from domain.workflow.automations import AUTOMATIONS_ID, Automations
from domain.workflow.statuses import STATUSES_ID
from domain.workflow.triggers import Fields

# What conditions read that an item's own events do not say.
EXTRA = ("organisation", "sla_state", "status")


def complete(
    uow: UnitOfWork, item: UUID, fields: Fields, needed: Collection[str] = EXTRA
) -> Fields:
    """`fields` with what an item's own events do not say, of what is `needed`: the
    requester's organisation (as it is now) and the SLA state (as recorded now); and its
    status with the names that status had before (a condition written with one still
    holds)."""
    found = dict(fields)
    if "organisation" in needed and fields["requester"]:
        contact = uow.get(contact_id_for(fields["requester"]), Contact)
        found["organisation"] = contact.organisation_id if contact is not None else None
    if "sla_state" in needed:
        sla = uow.get(item_sla_id(item), ItemSla)
        if sla is not None and sla.policy is not None:
            found["sla_state"] = overall(sla.metrics)
    if "status" in needed:
        found["status"] = names_of(uow, fields["item_type"], fields["status"])
    return found


def needed_by(rules: Sequence[dict[str, Any]]) -> set[str]:
    """What of `EXTRA` the conditions of `rules` read."""
    return {c["field"] for r in rules for c in r["conditions"]["rules"]} & set(EXTRA)


class Kept:
    """Small aggregates a process reads on every item event (the rules, the item types,
    the statuses), kept and brought up to date from the events recorded since; a new copy
    each time one changes, so a reader in another thread never sees one half changed."""

    def __init__(self, app: LedgerDesk) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._kept: dict[UUID, Any] = {}

    def get(self, aggregate_id: UUID) -> Any | None:
        with self._lock:
            kept = self._kept.get(aggregate_id)
            after = kept.version if kept is not None else 0
            newer: list[Any] = list(self.app.events.get(aggregate_id, gt=after))
            if newer:
                fresh: Any = copy.deepcopy(kept)
                for event in newer:
                    fresh = event.mutate(fresh)
                self._kept[aggregate_id] = kept = fresh
        return kept

    def rules(self) -> Automations:
        """The rules as they are (the shipped ones until admins changed any)."""
        kept = self.get(AUTOMATIONS_ID)
        return kept if isinstance(kept, Automations) else Automations.shipped()

    def reading(self) -> UnitOfWork:
        """A unit of work for reading, with the item types and statuses as kept (never
        saved: what it reads of them must not be changed)."""
        uow = UnitOfWork(self.app)
        for aggregate_id in (ITEM_TYPES_ID, STATUSES_ID):
            uow.know(aggregate_id, self.get(aggregate_id))
        return uow
