"""Where an item stands against its SLA policy, computed from its history.

An item's history, reduced to what service levels look at (`Fact`s: when it opened, each
message the customer sees and who wrote it, its priority, its status and state), and a
policy give one `Measurement` per metric:

- **first response**: from the opening to the first reply staff post to the customer;
- **next response**: from a customer's message that came after staff had replied, while
  the item was not finished, to staff's next reply (each such round is measured; the last
  one is the current one); finishing the item answers a response still owed;
- **resolution**: from the opening to reaching a finished state; time spent finished
  before a reopening does not count.

A target still running follows the item's current priority; an answered one is judged by
the priority when it was answered. With `pause_while_waiting`, the clocks stop while the
item waits on its customer: from entering a waiting status (`waiting`: the names, case-
insensitive, of its type's statuses that wait on the customer, their former names too) to
leaving
it or to the customer's next message. A ticket converted to a task is measured up to its
conversion; what it still owed then is no longer measured. Everything is recomputed from
the history, so a changed policy gives exact answers for any past.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from domain.sla.business_hours import Pause
from domain.sla.clock import SlaState, Target
from domain.sla.policies import target_of
from domain.values import State

# The statuses in which an item waits on its customer (by name, case-insensitive), as
# shipped (`domain.workflow.statuses.waiting_names` gives a type's as configured).
WAITING_STATUSES = frozenset({"waiting on customer"})
Kind = Literal["opened", "customer_wrote", "staff_replied", "priority", "status", "converted"]


@dataclass(frozen=True)
class Fact:
    """One thing that happened to an item, as service levels see it. `value` is the
    priority (opened, priority) or `status` and `state` (opened, status)."""

    at: datetime
    kind: Kind
    priority: str | None = None
    status: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class Round:
    """One measured round of a metric: when its clock started, and when it was answered."""

    started: datetime
    answered: datetime | None = None
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True)
class Measurement:
    """A metric's current round against its target (`target` None: the policy sets none),
    judged by `priority`; `earlier`: the metric's answered rounds before this one (next
    response has one per customer message that asked), each judged by its own priority."""

    metric: str
    target: Target | None
    round: Round
    priority: str = "normal"
    earlier: tuple[Measurement, ...] = field(default=())

    def due(self) -> datetime | None:
        if self.target is None:
            return None
        return self.target.due(self.round.started, self.round.pauses)

    def warns(self) -> datetime | None:
        if self.target is None:
            return None
        return self.target.warns(self.round.started, self.round.pauses)

    def state(self, now: datetime) -> SlaState | None:
        if self.target is None:
            return None
        r = self.round
        return self.target.state(r.started, now, r.answered, r.pauses)


def facts_of(events: Iterable[Any]) -> list[Fact]:
    """An item's events (a ticket's or a task's) as facts, in order; what service levels
    do not look at is left out. Who wrote a customer-visible message decides whether it
    is the customer writing (`customer:…`) or staff replying (`user:…`); what the system
    posts (acknowledgements) is neither. Times never go back: events written by hosts
    whose clocks differ keep their order."""
    facts: list[Fact] = []
    for e in events:
        kind = type(e).__name__
        at = max(e.timestamp, facts[-1].at) if facts else e.timestamp
        if kind in ("Opened", "Planned"):
            facts.append(Fact(at, "opened", e.priority, e.status, e.state))
        elif kind == "Reprioritised":
            facts.append(Fact(at, "priority", priority=e.priority))
        elif kind == "StatusChanged":
            facts.append(Fact(at, "status", status=e.status, state=e.state))
        elif kind == "ConvertedToTask":
            facts.append(Fact(at, "converted"))
        elif kind == "CustomerReplyPosted":
            if e.actor.startswith("customer:"):
                facts.append(Fact(at, "customer_wrote"))
            elif e.actor.startswith("user:"):
                facts.append(Fact(at, "staff_replied"))
    return facts


def measure(
    policy: dict[str, Any], facts: Sequence[Fact], waiting: frozenset[str] = WAITING_STATUSES
) -> dict[str, Measurement]:
    """Each metric's measurement under `policy`, from an item's `facts` (oldest first; the
    first is its opening); `waiting`: the status names (case-folded) that wait on the
    customer."""
    if not facts or facts[0].kind != "opened":
        raise ValueError("an item's facts start with its opening")
    opened = facts[0]
    converted = next((i for i, f in enumerate(facts) if f.kind == "converted"), None)
    if converted is not None:
        facts = facts[:converted]  # Nothing after its conversion is the ticket's.
    priorities = _priorities(facts)
    waits = _waiting(facts, waiting) if policy["pause_while_waiting"] else ()
    finished = _spans(facts, lambda f: f.state == State.FINISHED.value)
    first_answer = None
    rounds: list[Round] = []
    asked: datetime | None = None  # a customer message waiting for staff's next reply
    done = opened.state == State.FINISHED.value
    for fact in facts[1:]:
        if fact.kind == "status":
            done = fact.state == State.FINISHED.value
        if fact.kind == "staff_replied":
            if first_answer is None:
                first_answer = fact.at
            elif asked is not None:
                rounds.append(Round(asked, fact.at, _within(waits, asked)))
                asked = None
        elif fact.kind == "customer_wrote" and first_answer is not None and asked is None:
            if not done:  # A word of thanks on a resolved item asks for nothing.
                asked = fact.at
        elif fact.kind == "status" and done:
            # Finishing an item answers what it was owed (as resolving a ticket does in
            # the help desks our users come from).
            if first_answer is None:
                first_answer = fact.at
            if asked is not None:
                rounds.append(Round(asked, fact.at, _within(waits, asked)))
                asked = None
    if asked is not None:
        rounds.append(Round(asked, None, _within(waits, asked)))
    resolved = finished[-1].start if finished and finished[-1].end is None else None
    # Time finished before a reopening does not count towards resolution.
    reopened = tuple(p for p in finished if p.end is not None)
    found = {
        "first_response": (Round(opened.at, first_answer, _within(waits, opened.at)),),
        "resolution": (Round(opened.at, resolved, (*_within(waits, opened.at), *reopened)),),
        "next_response": tuple(rounds),
    }
    measured = {}
    for metric, held in found.items():
        if not held or (converted is not None and held[-1].answered is None):
            continue  # No round yet; or owed still when the ticket became a task.
        # An answered round is judged by the priority then; one still running, by today's.
        judged = [
            Measurement(metric, target_of(policy, p, metric), r, p)
            for r in held
            for p in (priorities(r.answered),)
        ]
        measured[metric] = replace(judged[-1], earlier=tuple(judged[:-1]))
    return measured


def _priorities(facts: Sequence[Fact]) -> Callable[[datetime | None], str]:
    """The item's priority at a moment (None: now)."""
    changes = [(f.at, f.priority) for f in facts if f.kind in ("opened", "priority") and f.priority]

    def at(moment: datetime | None) -> str:
        found = [p for when, p in changes if moment is None or when <= moment]
        return found[-1] if found else "normal"

    return at


def _waiting(facts: Sequence[Fact], waiting: frozenset[str]) -> tuple[Pause, ...]:
    """The spans the item waited on its customer: from entering a waiting status to leaving
    it, or to the customer's next message (their answer is what it waited for)."""
    spans: list[Pause] = []
    since: datetime | None = None
    for fact in facts:
        if fact.kind in ("opened", "status"):
            waits = (fact.status or "").casefold() in waiting
            if waits and since is None:
                since = fact.at
            elif not waits and since is not None:
                spans.append(Pause(since, fact.at))
                since = None
        elif fact.kind == "customer_wrote" and since is not None:
            spans.append(Pause(since, fact.at))
            since = None
    if since is not None:
        spans.append(Pause(since))
    return tuple(spans)


def _spans(facts: Sequence[Fact], holds: Any) -> tuple[Pause, ...]:
    """The spans during which the item's status satisfied `holds` (the last may be open)."""
    spans: list[Pause] = []
    since: datetime | None = None
    for fact in facts:
        if fact.kind not in ("opened", "status"):
            continue
        if holds(fact):
            if since is None:
                since = fact.at
        elif since is not None:
            spans.append(Pause(since, fact.at))
            since = None
    if since is not None:
        spans.append(Pause(since))
    return tuple(spans)


def _within(pauses: Sequence[Pause], since: datetime) -> tuple[Pause, ...]:
    """The pauses that matter to a clock started at `since` (those not over before it)."""
    return tuple(p for p in pauses if p.end is None or p.end > since)
