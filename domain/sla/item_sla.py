"""An item's service levels: the policy it is held to, and where each target stood when it
last changed.

Its own aggregate beside the item (one per item, its id derived from the item's), so SLA
bookkeeping never queues behind, or conflicts with, the people writing to the item itself.
What it records is derived (`domain.sla.measure`) from the item's history, the policy and
the time: `Changed` is recorded when a due time, a warning time or a state differs from
what it last recorded, so a warning or a breach is recorded once.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.sla.clock import SlaState
from domain.sla.measure import Measurement
from domain.values import utc_text

SLA_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/sla/items")
# The order states are worst-first in, for an item's overall state.
SEVERITY = (SlaState.BREACHED, SlaState.WARNING, SlaState.ON_TRACK, SlaState.MET)


def item_sla_id(item: UUID) -> UUID:
    """The id of the SLA of the item whose aggregate id is `item`."""
    return uuid5(SLA_NAMESPACE, str(item))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else utc_text(moment)


def snapshot(measured: dict[str, Measurement], now: datetime) -> dict[str, dict[str, Any]]:
    """What is recorded of each metric that has a target, at `now`."""
    found = {}
    for metric, m in sorted(measured.items()):
        record = _round_record(m, now)
        if record is not None:
            found[metric] = record
    return found


def _round_record(m: Measurement, now: datetime) -> dict[str, Any] | None:
    """What is recorded of one round (None when its metric has no target)."""
    state = m.state(now)
    if state is None:
        return None
    due = m.due()
    return {
        "started_at": _iso(m.round.started),
        "due_at": _iso(due),
        "warn_at": _iso(m.warns()),
        "answered_at": _iso(m.round.answered),
        "paused": m.round.answered is None and due is None,
        "state": state.value,
        "priority": m.priority,
    }


def unrecorded(
    answered_through: dict[str, str], measured: dict[str, Measurement], now: datetime
) -> list[dict[str, Any]]:
    """The rounds answered before a metric's current one whose outcome was never recorded
    (a round answered and followed by the next one between two records), oldest first,
    each with its `metric`: so that every round's outcome is in the log once.
    `answered_through`: per metric, the start of the latest round recorded answered."""
    found = []
    for metric, m in sorted(measured.items()):
        last = answered_through.get(metric, "")
        for earlier in m.earlier:
            record = _round_record(earlier, now)
            if record is None or record["started_at"] <= last:
                continue  # No target then; or recorded answered already.
            found.append({"metric": metric, **record})
    return found


def _answered_through(
    known: dict[str, str], records: Iterable[tuple[str, dict[str, Any]]]
) -> dict[str, str]:
    """`known`, moved on by the answered rounds among `records` ((metric, record) pairs)."""
    through = dict(known)
    for metric, r in records:
        if r["answered_at"] is not None and r["started_at"] > through.get(metric, ""):
            through[metric] = r["started_at"]
    return through


def settled(
    recorded: dict[str, dict[str, Any]], measured: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """`measured`, except that a round answered when last recorded keeps its outcome (it
    was judged by the policy and priority then; a later change of either never rewrites
    it)."""
    kept = dict(measured)
    for metric, new in measured.items():
        old = recorded.get(metric)
        if (
            old is not None
            and old["answered_at"] is not None
            and (old["started_at"], old["answered_at"]) == (new["started_at"], new["answered_at"])
        ):
            kept[metric] = old
    return kept


def overall(metrics: dict[str, dict[str, Any]]) -> str | None:
    """The worst state of an item's metrics; None without any target."""
    states = {m["state"] for m in metrics.values()}
    return next((s.value for s in SEVERITY if s.value in states), None)


def pending(metrics: dict[str, dict[str, Any]]) -> bool:
    """Whether a target is still owed an answer (a paused one included)."""
    return any(m["answered_at"] is None for m in metrics.values())


def next_due(metrics: dict[str, dict[str, Any]]) -> str | None:
    """The earliest time a pending metric warns or falls due (when its state may change)."""
    times = [
        t
        for m in metrics.values()
        if m["state"] in (SlaState.ON_TRACK.value, SlaState.WARNING.value)
        for t in (m["warn_at"] if m["state"] == SlaState.ON_TRACK.value else None, m["due_at"])
        if t is not None
    ]
    return min(times, default=None)


def earliest_due(metrics: dict[str, dict[str, Any]]) -> str | None:
    """The earliest due time of a target still owed an answer (a breached one's included;
    None when none is owed, or the owed ones are paused)."""
    owed = [m["due_at"] for m in metrics.values() if m["answered_at"] is None]
    return min((due for due in owed if due is not None), default=None)


def summary(policy: dict[str, Any] | None, metrics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """An item's SLA in brief, as its document shows it: its policy (id and name), its
    worst state, the next time that may change and the earliest due time still owed."""
    if policy is None:
        return {"policy": None, "state": None, "next_due": None, "due": None}
    return {
        "policy": {"id": policy["id"], "name": policy["name"]},
        "state": overall(metrics),
        "next_due": next_due(metrics),
        "due": earliest_due(metrics),
    }


def summary_of(events: Iterable[Any]) -> dict[str, Any]:
    """`summary` from an item's SLA events (as of the last of them)."""
    policy: dict[str, Any] | None = None
    metrics: dict[str, dict[str, Any]] = {}
    for e in events:
        kind = type(e).__name__
        if kind == "Applied":
            policy = e.policy
            if policy is None:
                metrics = {}
        elif kind == "Changed":
            metrics = e.metrics
    return summary(policy, metrics)


MEASURING = ("id", "name", "targets", "business_hours", "pause_while_waiting", "warn_at")


def measured_by(policy: dict[str, Any] | None) -> dict[str, Any] | None:
    """What of a policy an item is measured by (a copy: not whether it is the default)."""
    return None if policy is None else copy.deepcopy({k: policy[k] for k in MEASURING})


class ItemSla(Aggregate):
    """The SLA of one item (`item_id`, the item's aggregate id, and its `number`)."""

    TOPIC = "ledgerdesk:ItemSla"

    if TYPE_CHECKING:
        Applied: ClassVar[type[Aggregate.Event]]
        Changed: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ItemSla.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:ItemSla.Started"
        item_id: str
        number: int
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, item_id: str, number: int, actor: str, correlation_id: str) -> None:
        self.item_id = item_id
        self.number = number
        self.policy: dict[str, Any] | None = None
        self.metrics: dict[str, dict[str, Any]] = {}
        self.measured_at: str | None = None
        # Per metric, the start of the latest round recorded answered.
        self.answered_through: dict[str, str] = {}

    @classmethod
    def start(cls, item: UUID, number: int, actor: str, correlation_id: str) -> ItemSla:
        return cls._create(
            cls.Started,
            id=item_sla_id(item),
            item_id=str(item),
            number=number,
            actor=actor,
            correlation_id=correlation_id,
        )

    def apply(self, policy: dict[str, Any] | None, actor: str, correlation_id: str) -> None:
        """Hold the item to `policy` (as it is now; None: to none): what of it measures."""
        held = measured_by(policy)
        if held != self.policy:
            self._applied(
                item_id=self.item_id, policy=held, actor=actor, correlation_id=correlation_id
            )

    @event("Applied", topic="ledgerdesk:ItemSla.Applied")
    def _applied(
        self, item_id: str, policy: dict[str, Any] | None, actor: str, correlation_id: str
    ) -> None:
        self.policy = policy
        if policy is None:
            self.metrics = {}

    @property
    def recorded_answered(self) -> dict[str, str]:
        """Per metric, the start of the latest round recorded answered (a snapshot taken
        before this was kept: none)."""
        known: dict[str, str] = self.__dict__.get("answered_through", {})
        return known

    def measure_at(self, now: datetime) -> datetime:
        """The moment to measure at: `now`, or the last moment recorded if that is later
        (a worker whose clock is behind never takes back what another recorded)."""
        if self.measured_at is None:
            return now
        return max(now, datetime.fromisoformat(self.measured_at))

    def record(
        self,
        metrics: dict[str, dict[str, Any]],
        at: datetime,
        actor: str,
        correlation_id: str,
        earlier: list[dict[str, Any]] | None = None,
    ) -> None:
        """Record where the targets stand at `at`, if that changed; with `earlier`, the
        outcomes of the rounds answered since the last record that it never showed."""
        if metrics != self.metrics or earlier:
            self._changed(
                item_id=self.item_id,
                metrics=metrics,
                measured_at=_iso(at),
                actor=actor,
                correlation_id=correlation_id,
                earlier=earlier or [],
            )

    @event("Changed", topic="ledgerdesk:ItemSla.Changed")
    def _changed(
        self,
        item_id: str,
        metrics: dict[str, dict[str, Any]],
        measured_at: str | None,
        actor: str,
        correlation_id: str,
        earlier: list[dict[str, Any]] | None = None,  # (not in the first records)
    ) -> None:
        self.metrics = metrics
        self.measured_at = measured_at
        self.answered_through = _answered_through(
            self.recorded_answered,
            [*((r["metric"], r) for r in earlier or ()), *metrics.items()],
        )
