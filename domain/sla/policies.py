"""SLA policies: per priority, how soon an item is owed its first response, each next
response and its resolution, in the policy's business hours.

Admins keep a few dozen at most, so they live in one aggregate, read from the write model.
A policy is recorded whole each time it changes (which one is the default follows from
the order of those events); a retired policy stays (items that had it keep meaning it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError
from domain.sla.business_hours import BusinessHours
from domain.sla.clock import Target
from domain.text import check_text
from domain.values import Priority

SLA_POLICIES_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/sla/policies")
METRICS = ("first_response", "next_response", "resolution")
PRIORITIES = tuple(p.value for p in Priority)
# Targets are whole minutes, up to a year of business time.
MAX_MINUTES = 366 * 24 * 60
NAME_LENGTH = 100


class SlaPolicyNotFoundError(NotFoundError):
    def __init__(self, policy_id: str) -> None:
        super().__init__(f"no SLA policy {policy_id}")


def blank_policy(policy_id: str) -> dict[str, Any]:
    """What a new policy holds before what it is given: no targets, around the clock."""
    return {
        "id": policy_id,
        "name": "",
        "targets": {p: dict.fromkeys(METRICS) for p in PRIORITIES},
        "business_hours": None,
        "pause_while_waiting": True,
        "warn_at": 0.75,
        "default": False,
        "retired": False,
    }


def checked_policy(given: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """`base` with what is `given` (name, targets, business_hours, pause_while_waiting,
    warn_at, default), checked; an InvalidValueError names the field that is wrong."""
    policy = {**base, "targets": {p: dict(t) for p, t in base["targets"].items()}}
    if "name" in given:
        name = given["name"]
        if not isinstance(name, str) or not name.strip():
            raise InvalidValueError("name", "a policy needs a name")
        check_text(name, "name")
        if len(name) > NAME_LENGTH:
            raise InvalidValueError("name", f"at most {NAME_LENGTH} characters")
        policy["name"] = name.strip()
    if "targets" in given:
        _merge_targets(policy["targets"], given["targets"])
    if "business_hours" in given:
        hours = given["business_hours"]
        try:
            parsed = None if hours is None else BusinessHours.parse(hours).to_data()
        except InvalidValueError as bad:
            raise InvalidValueError(f"business_hours.{bad.field}", str(bad)) from None
        policy["business_hours"] = parsed
    if "pause_while_waiting" in given:
        if not isinstance(given["pause_while_waiting"], bool):
            raise InvalidValueError("pause_while_waiting", "true or false")
        policy["pause_while_waiting"] = given["pause_while_waiting"]
    if "warn_at" in given:
        share = given["warn_at"]
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1:
            raise InvalidValueError("warn_at", "the share of a target after which it warns, 0-1")
        policy["warn_at"] = float(share)
    if "default" in given:
        if not isinstance(given["default"], bool):
            raise InvalidValueError("default", "true or false")
        policy["default"] = given["default"]
    if not policy["name"]:
        raise InvalidValueError("name", "a policy needs a name")
    _check_reachable(policy)
    return policy


def _check_reachable(policy: dict[str, Any]) -> None:
    """No target longer than five years of the policy's business hours (due times are
    looked for ten years ahead, holidays included)."""
    hours = policy["business_hours"]
    if hours is None:
        return
    most = BusinessHours.parse(hours).weekly_minutes() * 52 * 5
    for priority, metrics in policy["targets"].items():
        for metric, minutes in metrics.items():
            if minutes is not None and minutes > most:
                raise InvalidValueError(
                    f"targets.{priority}.{metric}",
                    f"{minutes} minutes is more than five years of these business hours",
                )


def _merge_targets(targets: dict[str, dict[str, int | None]], given: Any) -> None:
    """Set the given cells of the priority x metric grid (minutes; null: no target)."""
    if not isinstance(given, dict):
        raise InvalidValueError("targets", "minutes per priority and metric")
    for priority, metrics in given.items():
        if priority not in PRIORITIES:
            known = ", ".join(PRIORITIES)
            raise InvalidValueError(f"targets.{priority}", f"not a priority: {known}")
        if metrics is None:  # The whole row cleared.
            targets[priority] = dict.fromkeys(METRICS)
            continue
        if not isinstance(metrics, dict):
            raise InvalidValueError(f"targets.{priority}", "minutes per metric")
        for metric, minutes in metrics.items():
            field = f"targets.{priority}.{metric}"
            if metric not in METRICS:
                raise InvalidValueError(field, f"not a metric: {', '.join(METRICS)}")
            if minutes is not None and (
                isinstance(minutes, bool)
                or not isinstance(minutes, int)
                or not 0 < minutes <= MAX_MINUTES
            ):
                raise InvalidValueError(field, f"whole minutes, 1 to {MAX_MINUTES}, or null")
            targets[priority][metric] = minutes


def target_of(policy: dict[str, Any], priority: str, metric: str) -> Target | None:
    """The policy's target for an item of `priority` (None: the policy sets none)."""
    minutes = policy["targets"][priority][metric]
    if minutes is None:
        return None
    data = policy["business_hours"]
    hours = BusinessHours.always() if data is None else BusinessHours.parse(data)
    return Target(seconds=minutes * 60.0, hours=hours, warn_share=policy["warn_at"])


class SlaPolicies(Aggregate):
    """Every SLA policy admins defined, retired ones included."""

    TOPIC = "ledgerdesk:SlaPolicies"

    if TYPE_CHECKING:
        Defined: ClassVar[type[Aggregate.Event]]
        Retired: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:SlaPolicies.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:SlaPolicies.Started"
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, actor: str, correlation_id: str) -> None:
        self.policies: dict[str, dict[str, Any]] = {}

    @classmethod
    def start(cls, actor: str, correlation_id: str) -> SlaPolicies:
        return cls._create(
            cls.Started, id=SLA_POLICIES_ID, actor=actor, correlation_id=correlation_id
        )

    def find(self, policy_id: str) -> dict[str, Any]:
        found = self.policies.get(policy_id)
        if found is None:
            raise SlaPolicyNotFoundError(policy_id)
        return found

    def define(self, policy: dict[str, Any], actor: str, correlation_id: str) -> None:
        """Record a policy whole (new, or changed: nothing if the same). The default policy
        is the one for new items: making one the default makes it the only one."""
        if policy["retired"] and policy["default"]:
            raise InvalidValueError("default", "a retired policy cannot be the default")
        if self.policies.get(policy["id"]) != policy:
            self._defined(policy=policy, actor=actor, correlation_id=correlation_id)

    @event("Defined", topic="ledgerdesk:SlaPolicies.Defined")
    def _defined(self, policy: dict[str, Any], actor: str, correlation_id: str) -> None:
        if policy["default"]:
            for other in self.policies.values():
                other["default"] = False
        self.policies[policy["id"]] = dict(policy)

    def retire(self, policy_id: str, actor: str, correlation_id: str) -> None:
        """No item gets it from now on; items that have it keep it."""
        if not self.find(policy_id)["retired"]:
            self._retired(policy_id=policy_id, actor=actor, correlation_id=correlation_id)

    @event("Retired", topic="ledgerdesk:SlaPolicies.Retired")
    def _retired(self, policy_id: str, actor: str, correlation_id: str) -> None:
        self.policies[policy_id] = {**self.policies[policy_id], "retired": True, "default": False}

    def default(self) -> dict[str, Any] | None:
        """The policy new items get, if admins chose one."""
        return next((p for p in self.policies.values() if p["default"]), None)
