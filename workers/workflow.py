"""The workflow actors: move the items of a renamed or retired status to the status they
now have (each one's change an event, as the workflow; what an item takes is decided in the
write model, `commands.workflow.statuses`, and an item that left the status meanwhile
stays); run the automation rules on a committed item event; and, on the tick, run the
time-based rules on the items whose time has come (`commands.workflow.rule_runs` decides,
and makes each run act once)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from commands.workflow.rule_runs import RuleRunner
from commands.workflow.statuses import StatusService
from domain.values import utc_text
from projections.base import current_tables
from projections.workflow.automations import due_items, rules_began
from projections.workflow.statuses import items_in
from workers.actors import Delivery, WorkerServices, wait_for_views

log = logging.getLogger("ledgerdesk.workers")
# How long to wait for the flat view to reach the configuration's change before giving the
# message back (dramatiq retries it).
VIEW_WAIT_SECONDS = 30.0


def move_items(services: WorkerServices, delivery: Delivery) -> None:
    item_type, moves = delivery.payload["item_type"], dict(delivery.payload["moves"])
    # The change was committed before this message was sent: once the flat view has
    # reached the head as it is now, it shows every item still in a moved status.
    wait_for_views(services, ("flat",), services.app.head(), VIEW_WAIT_SECONDS)
    with services.views.read() as tx:
        numbers = items_in(tx, current_tables(tx, "flat"), item_type, list(moves))
    statuses = StatusService(services.app)
    for number in numbers:
        statuses.move_item(number, moves, delivery.message_id)
    if numbers:
        log.info("moved %d %s item(s) to their new status", len(numbers), item_type)


def _moment_of(services: WorkerServices, position: int) -> str:
    """When the event at log `position` was recorded ("" for none): a time-based rule's
    clock that started before rules ran on this install is history."""
    if position <= 0:
        return ""
    found = services.app.recorder.select_notifications(start=position, limit=1)
    if not found:
        return ""
    event: Any = services.app.mapper.to_domain_event(found[0])
    return utc_text(event.timestamp)


def _rules(services: WorkerServices) -> RuleRunner:
    if services.rules is None:
        raise RuntimeError("this worker was built without the automation rules")
    return services.rules


def run_rules(services: WorkerServices, delivery: Delivery) -> None:
    acted = _rules(services).on_event(
        UUID(delivery.payload["item_id"]), int(delivery.payload["version"])
    )
    if acted:
        log.info("automation rules %s acted on %s", ", ".join(acted), delivery.payload["item_id"])


def tick(services: WorkerServices, delivery: Delivery) -> None:
    """Run each enabled time-based rule on the items whose time has come by this worker's
    clock (a slot's tick from another process finds them run already)."""
    runner = _rules(services)
    now = runner.clock()
    automations = runner.kept.rules()
    with services.views.read() as tx:
        began = _moment_of(services, rules_began(tx))
    timed = [
        r
        for r in automations.rules.values()
        if r["enabled"] and r["trigger"]["type"] == "time_elapsed"
    ]
    for rule in timed:
        cutoff = utc_text(now - timedelta(hours=rule["trigger"]["hours"]))
        with services.views.read() as tx:
            clock = current_tables(tx, "automation_clock")
            items = due_items(tx, clock, runner.as_named_now(rule), cutoff, began)
        for item in items:
            try:
                runner.on_time(rule["id"], UUID(item), began)
            except Exception:
                log.exception("automation rule %s could not run on %s", rule["id"], item)
