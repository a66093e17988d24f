"""The SLA an item is held to: applying a policy (staff, or the default policy when a
ticket opens), and recording where its targets stand (after each event that may move them,
on the worker tick once a warning or a due time has passed, and when its policy changes)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.company_settings import kind_on
from commands.models import Context
from commands.tickets import require_editor, require_visible
from commands.unit_of_work import UnitOfWork, run
from commands.workflow.statuses import waiting_for
from domain.company_settings import kind_of
from domain.errors import InvalidValueError
from domain.item_numbers import item_id
from domain.sla.item_sla import (
    ItemSla,
    item_sla_id,
    pending,
    settled,
    snapshot,
    summary,
    summary_of,
    unrecorded,
)
from domain.sla.measure import facts_of, measure
from domain.sla.policies import SLA_POLICIES_ID, SlaPolicies, SlaPolicyNotFoundError
from domain.values import Actor

SLA_ACTOR = Actor.system("sla")
Clock = Callable[[], datetime]


class ItemSlaService:
    def __init__(self, app: LedgerDesk, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self.app = app
        self.clock = clock

    def of(self, number: int, ctx: Context) -> dict[str, Any]:
        """Item `number`'s SLA: its policy (id and name, or None) and its targets."""
        uow = UnitOfWork(self.app)
        require_visible(uow.item(number), uow, ctx)
        return describe(uow.get(item_sla_id(item_id(number)), ItemSla))

    def summary_as_of(self, item: UUID, moment: datetime) -> dict[str, Any]:
        """The SLA of the item whose aggregate id is `item` in brief, as recorded up to
        `moment` (an item document as of a moment shows it)."""
        events: Iterable[Any] = self.app.events.get(item_sla_id(item))
        return summary_of(e for e in events if e.timestamp <= moment)

    def apply(self, number: int, policy_id: UUID | None, ctx: Context) -> int:
        """Hold item `number` to a policy as it is now (None: to none), and record where
        its targets stand; the log position."""

        def decide(uow: UnitOfWork) -> list[Any]:
            found = uow.item(number)
            require_editor(found, uow, ctx)
            found.check_changeable()
            return self.apply_in(uow, number, policy_id, ctx)

        return run(self.app, item_sla_id(item_id(number)), decide)[1]

    def apply_in(
        self, uow: UnitOfWork, number: int, policy_id: UUID | None, ctx: Context
    ) -> list[Any]:
        """In `uow`: hold item `number` to a policy (None: to none); what changed."""
        item = item_id(number)
        policy = None
        if policy_id is not None:
            policies = uow.get(SLA_POLICIES_ID, SlaPolicies)
            if policies is None:
                raise SlaPolicyNotFoundError(str(policy_id))
            policy = policies.find(str(policy_id))
            if policy["retired"]:
                raise InvalidValueError("policy_id", "a retired policy is not applied")
        if policy is None and uow.get(item_sla_id(item), ItemSla) is None:
            return []  # Held to none already.
        sla = _item_sla(uow, item, number, ctx)
        sla.apply(policy, ctx.actor.ref, ctx.correlation_id)
        self._measure(uow, sla, ctx.actor.ref, ctx.correlation_id)
        return [sla]

    def default_in(self, uow: UnitOfWork, number: int, ctx: Context) -> list[Any]:
        """In `uow`: hold item `number` to the default policy, if admins chose one and the
        item has none (what staff made of its SLA stays)."""
        item = item_id(number)
        policies = uow.get(SLA_POLICIES_ID, SlaPolicies)
        default = policies.default() if policies is not None else None
        if default is None or uow.get(item_sla_id(item), ItemSla) is not None:
            return []
        sla = _item_sla(uow, item, number, ctx)
        sla.apply(default, ctx.actor.ref, ctx.correlation_id)
        self._measure(uow, sla, ctx.actor.ref, ctx.correlation_id)
        return [sla]

    def apply_default(self, number: int, correlation_id: str) -> None:
        """A new ticket gets the default policy, if admins chose one; an item that had a
        policy already keeps what staff made of it. (Messages queued before the shipped
        automation rule took this over.)"""
        ctx = Context(actor=SLA_ACTOR, correlation_id=correlation_id)

        def decide(uow: UnitOfWork) -> list[Any]:
            if not self._app_on(uow, item_id(number)):
                return []
            return self.default_in(uow, number, ctx)

        run(self.app, item_sla_id(item_id(number)), decide)

    def follow_policy(self, sla_id: UUID, correlation_id: str) -> None:
        """An item whose policy changed: measured again (which holds it to the policy as
        it is now)."""
        self._again(sla_id, correlation_id, None)

    def evaluate(self, item: UUID, correlation_id: str, at: datetime | None = None) -> None:
        """Record where the targets of the item whose aggregate id is `item` stand at `at`
        (default: now), if that changed."""
        self._again(item_sla_id(item), correlation_id, at)

    def _again(self, sla_id: UUID, correlation_id: str, at: datetime | None) -> None:
        def decide(uow: UnitOfWork) -> list[Any]:
            sla = uow.get(sla_id, ItemSla)
            if sla is None or sla.policy is None:
                return []
            if not self._app_on(uow, UUID(sla.item_id)):
                return []  # Measured again once it is on.
            self._measure(uow, sla, SLA_ACTOR.ref, correlation_id, at)
            return [sla]

        run(self.app, sla_id, decide)

    def _app_on(self, uow: UnitOfWork, item: UUID) -> bool:
        """Whether the app of the item is switched on (no SLA work on a switched-off one's)."""
        first = next(iter(self.app.events.get(item, limit=1)), None)
        return first is None or kind_on(uow, kind_of(first))

    def _measure(
        self,
        uow: UnitOfWork,
        sla: ItemSla,
        actor: str,
        correlation_id: str,
        at: datetime | None = None,
    ) -> None:
        """Hold the item to its policy as it is now (unless retired: then as it was), and
        record where its targets stand."""
        if sla.policy is None:
            return
        policies = uow.get(SLA_POLICIES_ID, SlaPolicies)
        current = policies.policies.get(sla.policy["id"]) if policies is not None else None
        if (
            current is not None
            and not current["retired"]
            and (not sla.metrics or pending(sla.metrics))
        ):
            sla.apply(current, actor, correlation_id)  # Only while something is still owed.
        assert sla.policy is not None
        moment = sla.measure_at(at or self.clock())
        events = list(self.app.events.get(UUID(sla.item_id)))
        kind = kind_of(events[0])
        item_type = getattr(events[0], "item_type", kind)
        waiting = waiting_for(uow, item_type if kind == "ticket" else "task", kind)
        measured = measure(sla.policy, facts_of(events), waiting)
        earlier = unrecorded(sla.recorded_answered, measured, moment)
        metrics = settled(sla.metrics, snapshot(measured, moment))
        sla.record(metrics, moment, actor, correlation_id, earlier)


def describe(sla: ItemSla | None) -> dict[str, Any]:
    """An item's SLA for an answer."""
    if sla is None or sla.policy is None:
        return {"policy": None, "state": None, "next_due": None, "metrics": {}}
    found = summary(sla.policy, sla.metrics)
    del found["due"]
    return {**found, "metrics": sla.metrics}


def _item_sla(uow: UnitOfWork, item: UUID, number: int, ctx: Context) -> ItemSla:
    found = uow.get(item_sla_id(item), ItemSla)
    return found or ItemSla.start(item, number, ctx.actor.ref, ctx.correlation_id)
