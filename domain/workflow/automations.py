"""The automation rules admins keep (a few hundred at most): one aggregate, each change an
event — a rule defined or changed (recorded whole, with when it took effect, so a rule never
acts on what happened before it existed or was last enabled), deleted, or moved in its item
type's order (rules of a type run in that order).

Until admins change anything, the shipped rules (`SHIPPED_RULES`) are the rules; the first
change records them, then the change, so they are edited like any other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError
from domain.workflow.rules import EVERY_TICKET_TYPE

AUTOMATIONS_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/workflow/automations")
MAX_RULES = 500
# Shipped rules act from the start: the policy that runs rules never sees history from
# before it was installed.
SHIPPED_SINCE = ""


def _shipped_id(name: str) -> str:
    return str(uuid5(AUTOMATIONS_ID, f"shipped/{name}"))


def _shipped(
    name: str,
    trigger: dict[str, Any],
    conditions: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    item_type: str = "ticket",
) -> dict[str, Any]:
    return {
        "id": _shipped_id(name),
        "name": name,
        "item_type": item_type,
        "enabled": True,
        "trigger": trigger,
        "conditions": {"match": "all", "rules": conditions},
        "actions": actions,
        "since": SHIPPED_SINCE,
    }


def _status_in(*names: str) -> dict[str, Any]:
    return {"field": "status", "operator": "in", "value": list(names)}


SHIPPED_RULES: tuple[dict[str, Any], ...] = (
    _shipped(
        "A customer reply reopens a waiting or resolved ticket",
        {"type": "customer_replied"},
        [_status_in("Waiting on customer", "Resolved")],
        [{"type": "set_status", "status": "Open"}],
    ),
    _shipped(
        "A reply to the customer waits on the customer",
        {"type": "staff_replied"},
        [{"field": "state", "operator": "in", "value": ["not_started", "in_progress"]}],
        [{"type": "set_status", "status": "Waiting on customer"}],
    ),
    _shipped(
        "Resolved for 7 days: closed",
        {"type": "time_elapsed", "hours": 7 * 24, "since": "status_changed"},
        [_status_in("Resolved")],
        [{"type": "set_status", "status": "Closed"}],
    ),
    _shipped(
        "New tickets get the default SLA policy",
        {"type": "item_created"},
        [],
        [{"type": "apply_sla", "policy_id": None}],
        EVERY_TICKET_TYPE,  # As every ticket was before there were rules.
    ),
)


def applies_to(rule: dict[str, Any], item_type: str) -> bool:
    """Whether `rule` runs on items of `item_type`: its own type's, or, a rule for every
    ticket type, any item but a task."""
    every = rule["item_type"] == EVERY_TICKET_TYPE and item_type != "task"
    return every or rule["item_type"] == item_type


class RuleNotFoundError(NotFoundError):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"no automation rule {rule_id!r}")
        self.rule_id = rule_id


class Automations(Aggregate):
    """Every rule by id (`rules`) and each item type's order (`orders`: type -> ids)."""

    TOPIC = "ledgerdesk:Automations"

    if TYPE_CHECKING:
        Defined: ClassVar[type[Aggregate.Event]]
        Deleted: ClassVar[type[Aggregate.Event]]
        Reordered: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Automations.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:Automations.Started"
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, actor: str, correlation_id: str) -> None:
        self.rules: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, list[str]] = {}

    @classmethod
    def start(cls, actor: str, correlation_id: str) -> Automations:
        """The rules, the shipped ones recorded (as the first changes)."""
        automations = cls._create(
            cls.Started, id=AUTOMATIONS_ID, actor=actor, correlation_id=correlation_id
        )
        for rule in SHIPPED_RULES:
            automations._defined(rule=dict(rule), actor=actor, correlation_id=correlation_id)
        return automations

    @classmethod
    def shipped(cls) -> Automations:
        """The rules as shipped, for reading when admins never changed any (never saved)."""
        return cls.start("system:shipped", "shipped")

    def find(self, rule_id: str) -> dict[str, Any]:
        found = self.rules.get(rule_id)
        if found is None:
            raise RuleNotFoundError(rule_id)
        return found

    def of_type(self, item_type: str) -> list[dict[str, Any]]:
        """The rules of `item_type`, in the order they run."""
        return [self.rules[i] for i in self.orders.get(item_type, [])]

    def run_on(self, item_type: str) -> list[dict[str, Any]]:
        """The rules that run on an item of `item_type`, in order: its type's, then those
        for every ticket type."""
        every = [] if item_type == "task" else self.of_type(EVERY_TICKET_TYPE)
        return [*self.of_type(item_type), *every]

    def define(self, rule: dict[str, Any], effective: str, actor: str, correlation_id: str) -> None:
        """Record `rule` (checked: `domain.workflow.rules.checked_rule`), new or changed.
        It acts on what happens from `effective` (an ISO time) when new, enabled again or
        given another trigger (a new clock for a time-based one); otherwise from when it
        first did."""
        old = self.rules.get(rule["id"])
        if old is None and len(self.rules) >= MAX_RULES:
            raise InvalidValueError("name", f"at most {MAX_RULES} rules")
        if old is not None and old["item_type"] != rule["item_type"]:
            raise InvalidValueError("item_type", "a rule keeps its item type")
        since = effective
        kept = old is not None and old["trigger"] == rule["trigger"]
        if old is not None and kept and (old["enabled"] or not rule["enabled"]):
            since = old["since"]
        new = {**rule, "since": since}
        if new != old:
            self._defined(rule=new, actor=actor, correlation_id=correlation_id)

    @event("Defined", topic="ledgerdesk:Automations.Defined")
    def _defined(self, rule: dict[str, Any], actor: str, correlation_id: str) -> None:
        order = self.orders.setdefault(rule["item_type"], [])
        if rule["id"] not in order:
            order.append(rule["id"])
        self.rules[rule["id"]] = rule

    def delete(self, rule_id: str, actor: str, correlation_id: str) -> None:
        self.find(rule_id)
        self._deleted(rule_id=rule_id, actor=actor, correlation_id=correlation_id)

    @event("Deleted", topic="ledgerdesk:Automations.Deleted")
    def _deleted(self, rule_id: str, actor: str, correlation_id: str) -> None:
        rule = self.rules.pop(rule_id)
        self.orders[rule["item_type"]].remove(rule_id)

    def move(self, rule_id: str, position: Any, actor: str, correlation_id: str) -> None:
        """Move a rule to `position` (0: it runs first) in its type's order."""
        rule = self.find(rule_id)
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise InvalidValueError("position", "a position is a whole number from 0")
        order = [i for i in self.orders[rule["item_type"]] if i != rule_id]
        order.insert(min(position, len(order)), rule_id)
        if order != self.orders[rule["item_type"]]:
            self._reordered(
                item_type=rule["item_type"], order=order, actor=actor, correlation_id=correlation_id
            )

    @event("Reordered", topic="ledgerdesk:Automations.Reordered")
    def _reordered(self, item_type: str, order: list[str], actor: str, correlation_id: str) -> None:
        self.orders[item_type] = order
