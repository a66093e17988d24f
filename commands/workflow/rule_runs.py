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

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from commands.application import LedgerDesk
from commands.company_settings import CompanySettingsService
from commands.mail.outgoing.service import MailOutService
from commands.models import Context
from commands.sla.items import ItemSlaService
from commands.unit_of_work import UnitOfWork, run
from commands.workflow.rule_actions import ACTIONS, Acting
from commands.workflow.rule_fields import Kept, complete, needed_by
from commands.workflow.rule_templates import item_values, rendered_templates
from commands.workflow.statuses import status_named
from domain.company_settings import kind_of
from domain.errors import DomainError
from domain.values import Actor, utc_text
from domain.workflow.automations import applies_to
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
from domain.workflow.triggers import Fields, automatic_messages, clock_start, fields_at, step

log = logging.getLogger("ledgerdesk.workflow")
Clock = Callable[[], datetime]


class RuleFailedError(Exception):
    def __init__(self, rule_id: str, index: int, problem: Exception) -> None:
        super().__init__(f"rule {rule_id}, actions[{index}]: {problem}")
        self.rule_id = rule_id


def rule_actor(rule_id: str) -> Actor:
    return Actor(AUTOMATION, rule_id)


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
        self.settings = CompanySettingsService(app)

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
        rules = self.kept.rules().run_on(fields["item_type"])
        moment = utc_text(trigger.timestamp)
        reading = functools.cache(self.kept.reading)  # Read once, and only if needed.
        firing = [
            r
            for r in rules
            if r["enabled"]
            and r["since"] <= moment
            and r["id"] not in chain
            and any(self._fires(r, h, reading) for h in happened)
        ]
        if not firing or not self.settings.kind_on(kind_of(events[0])):
            return []  # (Its app switched off: nothing acts on its items.)
        fields = complete(reading(), item, fields, needed_by(firing))
        acting = [r for r in firing if matches(r["conditions"], fields)]
        if not acting:
            return []
        cause = event_id(trigger)
        if len(chain) >= MAX_DEPTH:
            self._stop_loop(item, cause, [*chain, *(r["id"] for r in acting)], trigger)
            return []
        return self._act(item, events[0].number, cause, None, acting, fields, trigger)

    def _fires(
        self, rule: dict[str, Any], happened: Happened, reading: Callable[[], UnitOfWork]
    ) -> bool:
        """`fires`, a status named in a `field_changed` trigger also by the name it has now
        (renamed, or retired and replaced, since the rule was saved)."""
        trigger = rule["trigger"]
        if fires(trigger, happened):
            return True
        if trigger["type"] != "field_changed" or trigger["field"] != "status":
            return False
        if happened.kind != "field_changed" or happened.field != "status":
            return False
        uow = reading()
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
        named = list(dict.fromkeys(reversed(rules)))[::-1]  # Each once, the last kept last.
        self._record(
            key,
            trigger,
            lambda: AutomationRun.loop_stopped(item, key, named, trigger.correlation_id, start),
        )
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
        if not events or not self.settings.kind_on(kind_of(events[0])):
            return False  # Its app is switched off: judged once it is on again.
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
        """Record that time-based rule `rule_id` was judged, without acting, for `clock`."""
        self._record(
            clock,
            cause,
            lambda: AutomationRun.ran(
                item, clock, [], start, cause.correlation_id, skipped=[rule_id]
            ),
        )

    def _record(self, key: str, cause: Any, made: Callable[[], AutomationRun]) -> None:
        """Save the run `made` for `key` (caused by event `cause`), unless there is one."""

        def decide(uow: UnitOfWork) -> list[Any]:
            if uow.get(run_id_for(key), AutomationRun) is not None:
                return []
            record = made()
            mark_caused(record.pending_events, event_id(cause))
            return [record]

        run(self.app, run_id_for(key), decide)

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
                rendered[rule["id"]] = rendered_templates(rule["actions"], values)
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
