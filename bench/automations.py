"""Automation rules: item events through the rules, against the projection runner folding the
same events into a view.

ledgerdesk: 100 enabled ticket rules (a quarter each on tickets created, a status changed, a
priority changed to urgent and a customer reply; each with conditions, on text that one
ticket in a hundred has, a priority and a status), then `TICKETS` tickets moved on as the
rebuild dataset's are (about three events each); then every item event, in log order, as one
`workflow.run_rules` worker thread handles it (`RuleRunner.on_event`: read the item's stream
up to the event, judge each rule of its type, and for the few that fire and match write
their actions with the run, in one transaction). Against it, on the same log, the
projection runner rebuilding the `automation_clock` view (a view over the same item events).
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import Figure, migrated, pg_schema, pg_settings, say, scratch_dir, show
from bench.dataset import RARE_WORD, seed
from commands.models import Context
from commands.workflow.automations import AutomationService
from commands.workflow.rule_runs import RuleRunner
from domain.values import Actor
from domain.workflow.automations import SHIPPED_RULES
from projections.workflow.automations import ITEM_TOPICS

RULES = 100
PRIORITIES = ["low", "normal", "high", "urgent"]
TICKETS = 5_000
SMOKE_TICKETS = 40
ADMIN = Context(actor=Actor.system("bench"), correlation_id="bench-automations")
TRIGGERS = (
    {"type": "item_created"},
    {"type": "field_changed", "field": "status", "to": "Resolved"},
    {"type": "field_changed", "field": "priority", "to": "urgent"},
    {"type": "customer_replied"},
)


def _rule(index: int) -> dict[str, Any]:
    """Rule `index`: fires on a quarter of what happens; acts on about one ticket in a
    hundred (those that mention the rare word), by an internal note."""
    return {
        "name": f"Rule {index}",
        "item_type": "ticket",
        "trigger": TRIGGERS[index % len(TRIGGERS)],
        "conditions": {
            "match": "all",
            "rules": [
                {"field": "text", "operator": "contains", "value": RARE_WORD},
                {
                    "field": "priority",
                    "operator": "in",
                    "value": ["low", "normal", "high", "urgent"],
                },
                {"field": "status", "operator": "is_not", "value": f"Parked {index}"},
            ],
        },
        "actions": [{"type": "internal_message", "body": f"Rule {index}: #{{{{ item.number }}}}"}],
    }


def run(smoke: bool = False) -> list[Figure]:
    tickets = SMOKE_TICKETS if smoke else TICKETS
    with scratch_dir() as data, pg_schema() as schema, migrated(pg_settings(schema, data)) as c:
        rules = AutomationService(c.app)
        for shipped in SHIPPED_RULES:
            rules.delete(shipped["id"], ADMIN)
        for index in range(RULES):
            rules.create(_rule(index), ADMIN)
        say(f"automations: {RULES} rules; seeding {tickets:,} tickets")
        start = c.app.head()
        seed(c, tickets)
        events = [
            (n.originator_id, n.originator_version)
            for n in c.app.recorder.select_notifications(  # type: ignore[attr-defined]
                start=start + 1, limit=10_000_000, topics=sorted(ITEM_TOPICS)
            )
        ]
        runner = RuleRunner(c.app)
        say(f"automations: {len(events):,} item events through the rules")
        started = time.perf_counter()
        acted = sum(bool(runner.on_event(item, version)) for item, version in events)
        ours = time.perf_counter() - started
        say(f"automations: rules acted on {acted:,} events in {ours:.1f} s")
        head = c.app.head()
        c.runner.catch_up()
        started = time.perf_counter()
        c.runner.rebuild("automation_clock")
        view = time.perf_counter() - started
    figure = Figure(
        name=f"automation rules, {RULES} enabled, {len(events):,} item events",
        value=len(events) / ours,
        unit="events/s",
        baseline=head / view,
        baseline_name="the runner rebuilding a view of the same log",
        note=f"{ours:.1f} s vs {view:.1f} s; rules acted on {acted:,} events",
    )
    show(figure)
    return [figure]
