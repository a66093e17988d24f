"""What automation rules did about one thing that happened to an item: one `AutomationRun`
per triggering event (or per time-based rule, item and moment its clock started), saved in
the same atomic write as the events its rules' actions record. Its id is derived from what
triggered it, so a second worker (or a redelivery after a crash) that runs the same rules
again collides with it and records nothing: rules act exactly once.

Causation: every event an action records carries the actor `automation:<rule id>` and, as
`causation_id`, the id of the event that triggered the rule (`event_id`). Following those
ids back gives the causal chain; one deeper than `rules.MAX_DEPTH` stops with a
`LoopStopped` run naming the rules that looped."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

RUN_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/workflow/automation-runs")
AUTOMATION = "automation"


def event_id(event: Any) -> str:
    """An event's id: its aggregate's id and version (`<uuid>:<version>`)."""
    return f"{event.originator_id}:{event.originator_version}"


def parse_event_id(value: str) -> tuple[UUID, int]:
    originator, _, version = value.rpartition(":")
    return UUID(originator), int(version)


def run_id_for(trigger: str) -> UUID:
    """The run of what `trigger` names: an event id, or `<rule id>:<item id>:<start>` for
    a time-based rule."""
    return uuid5(RUN_NAMESPACE, trigger)


def causation_of(event: Any) -> str | None:
    """The id of the event that caused `event` (None: a person or the system did it)."""
    found = event.__dict__.get("causation_id")
    return None if found is None else str(found)


def mark_caused(events: Any, causation_id: str) -> None:
    """Record on each of `events` (pending, not saved yet) the event that caused them."""
    for pending in events:
        object.__setattr__(pending, "causation_id", causation_id)


class AutomationRun(Aggregate):
    """One run: what triggered it, the item, and which rules acted (or looped)."""

    TOPIC = "ledgerdesk:AutomationRun"

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:AutomationRun.Created"

    class Ran(Aggregate.Created):
        """`rules` acted on item `item_id` because of `trigger` (an event id, or a
        time-based rule's clock: `<rule id>:<item id>:<start>`); `start` is that clock's
        start (None for an event); `skipped`: a time-based rule whose conditions did not
        hold when its time came (it does not act for that start)."""

        TOPIC = "ledgerdesk:AutomationRun.Ran"
        item_id: str
        trigger: str
        rules: list[str]
        start: str | None
        skipped: list[str]
        actor: str
        correlation_id: str

    class LoopStopped(Aggregate.Created):
        """The causal chain ending in `trigger` was too deep: `rules` (those in the chain,
        oldest first, then those that would have acted) did not act; `start`: a time-based
        rule's clock start (that rule last in `rules`), else None."""

        TOPIC = "ledgerdesk:AutomationRun.LoopStopped"
        item_id: str
        trigger: str
        rules: list[str]
        start: str | None
        actor: str
        correlation_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.looped = True

    @event(Ran)
    def __init__(
        self,
        item_id: str,
        trigger: str,
        rules: list[str],
        actor: str,
        correlation_id: str,
        start: str | None = None,
        skipped: list[str] | None = None,
    ) -> None:
        self.item_id = item_id
        self.trigger = trigger
        self.rules = rules
        self.start = start
        self.skipped = skipped or []
        self.looped = False

    @classmethod
    def ran(
        cls,
        item: UUID,
        trigger: str,
        rules: list[str],
        start: str | None,
        correlation_id: str,
        skipped: list[str] | None = None,
    ) -> AutomationRun:
        return cls._create(
            cls.Ran,
            id=run_id_for(trigger),
            item_id=str(item),
            trigger=trigger,
            rules=rules,
            start=start,
            skipped=skipped or [],
            actor=f"{AUTOMATION}:{rules[0]}" if rules else AUTOMATION,
            correlation_id=correlation_id,
        )

    @classmethod
    def loop_stopped(
        cls,
        item: UUID,
        trigger: str,
        rules: list[str],
        correlation_id: str,
        start: str | None = None,
    ) -> AutomationRun:
        return cls._create(
            cls.LoopStopped,
            id=run_id_for(trigger),
            item_id=str(item),
            trigger=trigger,
            rules=rules,
            start=start,
            actor=AUTOMATION,
            correlation_id=correlation_id,
        )
