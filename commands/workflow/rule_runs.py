"""Running automation rules: on one committed item event (`on_event`, from the outbox
policy `workflow.automations`), or for one time-based rule whose time has come for one item
(`on_time`, from the worker's tick).

A run reads the item's stream up to the triggering event, judges each enabled rule of the
item's type in order (it fires on what the event did, its conditions hold on the item's
fields as they were right after it, it existed when the event happened, and the event was
not its own action's), and applies the actions of those that do to the item as it is now,
in one atomic write with the `AutomationRun` that says so. That run's id comes from the
trigger, so running it again — a second worker, a redelivery after a crash — writes
nothing: rules act exactly once. A rule whose action fails (a status since retired, a user
since removed) is left out of the run, named in the log, and the other rules still act."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.mail.outgoing.service import MailOutService
from commands.models import Context
from commands.sla.items import ItemSlaService
from commands.unit_of_work import UnitOfWork, run
from commands.workflow.rule_actions import ACTIONS, Acting, rendered_templates
from commands.workflow.rule_templates import item_values
from commands.workflow.statuses import names_of, status_named
from domain.contact import Contact, contact_id_for
from domain.errors import DomainError
from domain.intake.item_types import ITEM_TYPES_ID
from domain.sla.item_sla import ItemSla, item_sla_id, overall
from domain.values import Actor, utc_text
from domain.workflow.automations import AUTOMATIONS_ID, Automations
from domain.workflow.rules import EVERY_TICKET_TYPE, MAX_DEPTH, Happened, fires, matches
from domain.workflow.runs import (
    AUTOMATION,
    AutomationRun,
    causation_of,
    event_id,
    mark_caused,
    parse_event_id,
    run_id_for,
)
from domain.workflow.statuses import STATUSES_ID
from domain.workflow.triggers import Fields, automatic_messages, clock_start, fields_at, step

log = logging.getLogger("ledgerdesk.workflow")
# What conditions read that an item's own events do not say.
EXTRA = ("organisation", "sla_state", "status")
Clock = Callable[[], datetime]


class RuleFailedError(Exception):
    def __init__(self, rule_id: str, index: int, problem: Exception) -> None:
        super().__init__(f"rule {rule_id}, actions[{index}]: {problem}")
        self.rule_id = rule_id


def applies_to(rule: dict[str, Any], item_type: str) -> bool:
    """Whether `rule` runs on items of `item_type` (its own type; a rule for every ticket
    type runs on every item but tasks)."""
    every = rule["item_type"] == EVERY_TICKET_TYPE and item_type != "task"
    return every or rule["item_type"] == item_type


def rules_for(automations: Automations, item_type: str) -> list[dict[str, Any]]:
    """The rules that run on an item of `item_type`, in order: its type's, then those for
    every ticket type."""
    every = automations.of_type(EVERY_TICKET_TYPE) if item_type != "task" else []
    return [*automations.of_type(item_type), *every] if item_type != EVERY_TICKET_TYPE else []


def rule_actor(rule_id: str) -> Actor:
    return Actor(AUTOMATION, rule_id)


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


ABSENT = object()


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
            kept = self.get(aggregate_id)
            # None yet: the shipped ones (a unit of work reads an object of another kind
            # as not there, without asking the store again).
            uow.touched[aggregate_id] = kept if kept is not None else ABSENT
        return uow


class RuleRunner:
    def __init__(
        self,
        app: LedgerDesk,
        mail_out: MailOutService | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.mail_out = mail_out
        self.clock = clock
        self.sla = ItemSlaService(app, clock)
        self.kept = Kept(app)

    # --- on an event ----------------------------------------------------------------------

    def on_event(self, item: UUID, version: int) -> list[str]:
        """Run the rules on the item's event `version`; the ids of the rules that acted
        (none when it ran before, nothing fired, or a loop was stopped)."""
        events: list[Any] = list(self.app.events.get(item, lte=version))
        if not events or events[-1].originator_version != version:
            return []
        trigger = events[-1]
        before = fields_at(events[:-1]) if len(events) > 1 else None
        fields, happened = step(before, trigger, self._automatic(trigger))
        if not happened:
            return []
        # A rule never reacts to what its own actions caused, directly or through others.
        chain = self.chain(trigger)
        rules = rules_for(self.kept.rules(), fields["item_type"])
        moment = utc_text(trigger.timestamp)
        firing = [
            r
            for r in rules
            if r["enabled"]
            and r["since"] <= moment
            and r["id"] not in chain
            and any(self._fires(r, h) for h in happened)
        ]
        if not firing:
            return []
        fields = complete(self.kept.reading(), item, fields, needed_by(firing))
        acting = [r for r in firing if matches(r["conditions"], fields)]
        if not acting:
            return []
        cause = event_id(trigger)
        if len(chain) >= MAX_DEPTH:
            self._stop_loop(item, cause, [*chain, *(r["id"] for r in acting)], trigger)
            return []
        return self._act(item, events[0].number, cause, None, acting, fields, trigger)

    def _fires(self, rule: dict[str, Any], happened: Happened) -> bool:
        """`fires`, a status named in a `field_changed` trigger also by the name it has now
        (renamed, or retired and replaced, since the rule was saved)."""
        trigger = rule["trigger"]
        if fires(trigger, happened):
            return True
        if trigger["type"] != "field_changed" or trigger["field"] != "status":
            return False
        uow = self.kept.reading()
        now = {
            end: status_named(uow, rule["item_type"], trigger[end]) or trigger[end]
            for end in ("from", "to")
            if trigger.get(end) is not None
        }
        return bool(now) and fires({**trigger, **now}, happened)

    def as_named_now(self, rule: dict[str, Any]) -> dict[str, Any]:
        """`rule` with each status its conditions name also by the name it has now (renamed,
        or retired and replaced, since): what a view of items' current statuses compares.
        A rule for every ticket type keeps no condition on status (types differ)."""
        uow = self.kept.reading()
        conditions = []
        for condition in rule["conditions"]["rules"]:
            if condition["field"] == "status":
                if rule["item_type"] == EVERY_TICKET_TYPE:
                    continue
                given = condition["value"]
                names = [given] if isinstance(given, str) else list(given)
                now = [status_named(uow, rule["item_type"], n) for n in names]
                value = [*names, *(n for n in now if n)]
                operator = {"is": "in", "is_not": "not_in"}.get(condition["operator"])
                condition = {**condition, "operator": operator or condition["operator"]}
                condition["value"] = value if isinstance(given, list) or operator else given
            conditions.append(condition)
        return {**rule, "conditions": {**rule["conditions"], "rules": conditions}}

    def _automatic(self, event: Any) -> frozenset[str]:
        """The messages among those `event` posted that came by mail a program sent (the
        `MailReceived` saved in the same write, after it, says so)."""
        if type(event).__name__ != "CustomerReplyPosted":
            return frozenset()
        after: list[Any] = []
        for later in self.app.events.get(event.originator_id, gt=event.originator_version):
            if later.correlation_id != event.correlation_id:  # type: ignore[attr-defined]
                break
            after.append(later)
        return automatic_messages(after)

    def chain(self, event: Any) -> list[str]:
        """The rules whose actions caused `event`, back to what a person or the system did
        (oldest first); at most `MAX_DEPTH` of them."""
        rules: list[str] = []
        current = event
        while len(rules) < MAX_DEPTH:
            actor = str(getattr(current, "actor", ""))
            if not actor.startswith(f"{AUTOMATION}:"):
                break
            rules.append(actor.partition(":")[2])
            cause = causation_of(current)
            if cause is None:
                break
            originator, version = parse_event_id(cause)
            found = list(self.app.events.get(originator, gt=version - 1, lte=version))
            if not found:
                break
            current = found[0]
        return rules[::-1]

    def _stop_loop(
        self, item: UUID, key: str, rules: list[str], trigger: Any, start: str | None = None
    ) -> None:
        """Record that the chain ending in `trigger` (the run's `key`) stopped."""

        def decide(uow: UnitOfWork) -> list[Any]:
            if uow.get(run_id_for(key), AutomationRun) is not None:
                return []
            named = list(dict.fromkeys(reversed(rules)))[::-1]  # Each once, the last kept last.
            stopped = AutomationRun.loop_stopped(item, key, named, trigger.correlation_id, start)
            mark_caused(stopped.pending_events, event_id(trigger))
            return [stopped]

        run(self.app, run_id_for(key), decide)
        log.warning("automation rules looped on %s: %s", key, ", ".join(rules))

    # --- on time --------------------------------------------------------------------------

    def on_time(self, rule_id: str, item: UUID, not_before: str = "") -> bool:
        """Run time-based rule `rule_id` on `item` if its time has come (and not for this
        start of its clock already: judged once) and its conditions held when it came;
        whether it acted. A clock that started before the rule took effect, or at or
        before `not_before` (when rules started running on this install), is history."""
        rule = self.kept.rules().rules.get(rule_id)
        if rule is None or not rule["enabled"] or rule["trigger"]["type"] != "time_elapsed":
            return False
        events: list[Any] = list(self.app.events.get(item))
        start = clock_start(rule["trigger"], events)
        if start is None:
            return False
        began = utc_text(start.timestamp)
        if began < rule["since"] or (not_before and began <= not_before):
            return False
        due = start.timestamp + timedelta(hours=rule["trigger"]["hours"])
        if due > self.clock():
            return False
        clock = f"{rule_id}:{item}:{began}"
        # As it was when its time came (not as it is when the tick got to it).
        fields = fields_at([e for e in events if e.timestamp <= due])
        chain = self.chain(start)
        if fields is None or not applies_to(rule, fields["item_type"]) or rule_id in chain:
            # Not its item, or its own action started the clock: judged, not acted on.
            self._skip(item, clock, began, rule_id, start)
            return False
        if len(chain) >= MAX_DEPTH:
            self._stop_loop(item, clock, [*chain, rule_id], start, began)
            return False
        fields = complete(self.kept.reading(), item, fields, needed_by([rule]))
        if matches(rule["conditions"], fields):
            acted = self._act(item, events[0].number, clock, began, [rule], fields, start)
            if acted:
                return True
        # Judged once, when its time came: it does not act for this start of its clock
        # (nor when its action failed: the next tick would fail again).
        self._skip(item, clock, began, rule_id, start)
        return False

    def _skip(self, item: UUID, clock: str, start: str, rule_id: str, cause: Any) -> None:
        def decide(uow: UnitOfWork) -> list[Any]:
            if uow.get(run_id_for(clock), AutomationRun) is not None:
                return []
            record = AutomationRun.ran(
                item, clock, [], start, cause.correlation_id, skipped=[rule_id]
            )
            mark_caused(record.pending_events, event_id(cause))
            return [record]

        run(self.app, run_id_for(clock), decide)

    # --- acting ---------------------------------------------------------------------------

    def _act(
        self,
        item: UUID,
        number: int,
        trigger: str,
        start: str | None,
        rules: Sequence[dict[str, Any]],
        fields: Fields,
        cause: Any,
    ) -> list[str]:
        """Apply `rules`' actions to the item, with the run, in one write; a rule whose
        action fails is left out and the others tried again."""
        left_out: set[str] = set()
        caused_by = event_id(cause)
        values = item_values(fields, number, "task" if fields["item_type"] == "task" else "ticket")
        rendered: dict[str, dict[tuple[int, str], str]] = {}
        for rule in rules:  # Before the write, not while every writer waits on it.
            try:
                rendered[rule["id"]] = rendered_templates(rule, values)
            except DomainError as problem:
                log.warning("automation %s left out on %s: %s", rule["id"], trigger, problem)
                left_out.add(rule["id"])
        while True:
            acting = [r for r in rules if r["id"] not in left_out]
            if not acting:
                return []

            def decide(uow: UnitOfWork, acting: list[dict[str, Any]] = acting) -> list[Any]:
                return self._decide(
                    uow, item, number, trigger, start, acting, rendered, cause, caused_by
                )

            try:
                saved, _ = run(self.app, run_id_for(trigger), decide)
            except RuleFailedError as failed:
                log.warning("automation %s left out on %s: %s", failed.rule_id, trigger, failed)
                left_out.add(failed.rule_id)
                continue
            return list(saved[-1].rules) if saved else []

    def _decide(
        self,
        uow: UnitOfWork,
        item: UUID,
        number: int,
        trigger: str,
        start: str | None,
        rules: Sequence[dict[str, Any]],
        rendered: dict[str, dict[tuple[int, str], str]],
        cause: Any,
        caused_by: str,
    ) -> list[Any]:
        if uow.get(run_id_for(trigger), AutomationRun) is not None:
            return []  # Ran already (another worker, or before a crash).
        target = uow.item(number)
        if getattr(target, "converted_to", None):
            return []  # A ticket converted since: its task has rules of its own.
        changed: dict[int, Any] = {id(target): target}
        acted: list[str] = []
        for rule in rules:
            if getattr(target, "converted_to", None):
                break  # Converted by a rule before it: the task's own rules take over.
            acted.append(rule["id"])
            on = Acting(
                ctx=Context(actor=rule_actor(rule["id"]), correlation_id=cause.correlation_id),
                run_id=run_id_for(trigger),
                rule_id=rule["id"],
                rendered=rendered[rule["id"]],
                sla=self.sla,
                mail_out=self.mail_out,
            )
            for index, action in enumerate(rule["actions"]):
                try:
                    others = ACTIONS[action["type"]](action, target, uow, on, index)
                except DomainError as problem:
                    raise RuleFailedError(rule["id"], index, problem) from problem
                changed.update((id(o), o) for o in others)
        record = AutomationRun.ran(item, trigger, acted, start, cause.correlation_id)
        aggregates = [*changed.values(), record]
        for aggregate in aggregates:
            mark_caused(
                (
                    e
                    for e in aggregate.pending_events
                    if str(getattr(e, "actor", "")).startswith(f"{AUTOMATION}")
                    and causation_of(e) is None
                ),
                caused_by,
            )
        return aggregates
