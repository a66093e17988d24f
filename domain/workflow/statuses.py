"""Statuses per item type: the company's own, each mapped to one of three states (not
started, in progress, finished), in an order, with one default per state.

The shipped statuses count for every type until admins change its list (a type of tickets:
New, Open, Waiting on customer, Resolved, Closed; tasks: Not started, In progress, On hold,
Done), with ids derived from the type and the name, so they are addressable before any
change. One aggregate holds every type's list as admins last configured it: each change
records the type's whole list (`Configured`) and the items to move (`moves`: from a status
name no longer in use to the id of the status they take — a renamed status's own id, or a
retired one's replacement), which the workflow worker applies to those items as events.
Items' events record a status's name and state, so a later change of the configuration
never rewrites what a past event meant.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError
from domain.sla.measure import WAITING_STATUSES
from domain.task import DEFAULT_TASK_LIFECYCLE
from domain.values import DEFAULT_TICKET_LIFECYCLE, Lifecycle, State, Status

STATUSES_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/workflow/statuses")
STATUS_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/workflow/status")
COLOR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_STATUSES = 50  # in use
MAX_KEPT = 500  # retired ones included (they stay, for what past events meant)
NAME_MAX = 60
# A new status's colour when none is given, by state.
COLORS = {State.NOT_STARTED: "#9e9e9e", State.IN_PROGRESS: "#1e88e5", State.FINISHED: "#43a047"}
SHIPPED = {"ticket": DEFAULT_TICKET_LIFECYCLE, "task": DEFAULT_TASK_LIFECYCLE}


class StatusNotFoundError(NotFoundError):
    def __init__(self, status_id: str) -> None:
        super().__init__(f"no status {status_id!r}")
        self.status_id = status_id


def status_id(item_type: str, name: str) -> str:
    """The id of a shipped status (derived: the same on every install)."""
    return str(uuid5(STATUS_NAMESPACE, f"{item_type}/{name}"))


def shipped(item_type: str, kind: str) -> list[dict[str, Any]]:
    """The statuses a type of `kind` (ticket or task) has until admins change them."""
    lifecycle = SHIPPED[kind]
    return [
        {
            "id": status_id(item_type, s.name),
            "name": s.name,
            "state": s.state.value,
            "color": COLORS[s.state],
            "default": lifecycle.default(s.state).name == s.name,
            "retired": False,
            "waits_on_customer": s.name.casefold() in WAITING_STATUSES,
        }
        for s in lifecycle.statuses
    ]


def waiting_names(statuses: list[dict[str, Any]]) -> frozenset[str]:
    """The names (case-folded) in which an item of the type waits on its customer: those of
    its statuses that wait (retired ones too), with every name they had before, so an item's
    past events keep meaning what they meant."""
    return frozenset(
        name.casefold()
        for s in statuses
        if s.get("waits_on_customer")
        for name in (s["name"], *s.get("former_names", ()))
    )


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValueError(field, f"{field} is true or false")
    return value


def lifecycle_of(statuses: list[dict[str, Any]]) -> Lifecycle:
    """The statuses an item of the type may take (the retired ones left out), in order, with
    the default of each state."""
    active = [s for s in statuses if not s["retired"]]
    return Lifecycle(
        tuple(Status(s["name"], State(s["state"])) for s in active),
        {State(s["state"]): s["name"] for s in active if s["default"]},
    )


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError("name", "a status needs a name")
    name = " ".join(value.split())
    if len(name) > NAME_MAX:
        raise InvalidValueError("name", f"a status's name is at most {NAME_MAX} characters")
    return name


def _color(value: Any) -> str:
    if not isinstance(value, str) or not COLOR.fullmatch(value):
        raise InvalidValueError("color", "a colour is #RRGGBB, e.g. #1e88e5")
    return value.lower()


def _checked(statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`statuses` if they make a list a type may have: unique names among those in use, at
    least one status in use per state and exactly one default of each."""
    active = [s for s in statuses if not s["retired"]]
    if len(active) > MAX_STATUSES or len(statuses) > MAX_KEPT:
        raise InvalidValueError(
            "name",
            f"a type has at most {MAX_STATUSES} statuses in use ({MAX_KEPT} with the retired)",
        )
    seen: set[str] = set()
    for s in active:
        if s["name"].casefold() in seen:
            raise InvalidValueError("name", f"there is a status named {s['name']!r} already")
        seen.add(s["name"].casefold())
    # A name means one thing for good: a status may take a name another status had (a
    # retired one, or a former name) only if it means the same (state, waiting on the
    # customer), so items' past events in that name keep their meaning.
    meant: dict[str, tuple[str, tuple[str, bool]]] = {}
    for s in statuses:
        meaning = (s["state"], bool(s.get("waits_on_customer")))
        for name in (s["name"], *s.get("former_names", ())):
            other = meant.setdefault(name.casefold(), (s["id"], meaning))
            if other[0] != s["id"] and other[1] != meaning:
                raise InvalidValueError(
                    "name",
                    f"{name!r} was the name of a status that meant something else (its state"
                    " or whether it waits on the customer): choose another name",
                )
    for state in State:
        of_state = [s for s in active if s["state"] == state.value]
        if not of_state:
            raise InvalidValueError(
                "state", f"a type needs a status in use that is {state.value.replace('_', ' ')}"
            )
        if sum(1 for s in of_state if s["default"]) != 1:
            raise InvalidValueError("default", f"one {state.value} status is the default")
    return statuses


class Statuses(Aggregate):
    """Every item type's statuses as admins last configured them (`lists`: type -> list)."""

    TOPIC = "ledgerdesk:Statuses"

    if TYPE_CHECKING:
        Configured: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Statuses.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:Statuses.Started"
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, actor: str, correlation_id: str) -> None:
        self.lists: dict[str, list[dict[str, Any]]] = {}

    @classmethod
    def start(cls, actor: str, correlation_id: str) -> Statuses:
        return cls._create(cls.Started, id=STATUSES_ID, actor=actor, correlation_id=correlation_id)

    def of_type(self, item_type: str, kind: str) -> list[dict[str, Any]]:
        """Type `item_type`'s statuses in order, retired ones too (a copy)."""
        return copy.deepcopy(self.lists.get(item_type) or shipped(item_type, kind))

    def find(self, types: dict[str, str], wanted: str) -> tuple[str, dict[str, Any]]:
        """The type (of `types`: key -> kind) and the status whose id is `wanted`."""
        for item_type, kind in types.items():
            for s in self.of_type(item_type, kind):
                if s["id"] == wanted:
                    return item_type, s
        raise StatusNotFoundError(wanted)

    def add(
        self,
        item_type: str,
        kind: str,
        new_id: str,
        given: dict[str, Any],
        actor: str,
        correlation_id: str,
    ) -> None:
        """A new status (id `new_id`) at `position` (default: after the last of its
        state)."""
        statuses = self.of_type(item_type, kind)
        try:
            state = State(str(given.get("state")))
        except ValueError:
            raise InvalidValueError(
                "state", "a status's state is not_started, in_progress or finished"
            ) from None
        name = _name(given.get("name"))
        new = {
            "id": new_id,
            "name": name,
            "state": state.value,
            "color": _color(given["color"]) if given.get("color") is not None else COLORS[state],
            "default": False,
            "retired": False,
            "waits_on_customer": _flag("waits_on_customer", given.get("waits_on_customer", False)),
        }
        same_state = [i for i, s in enumerate(statuses) if s["state"] == state.value]
        statuses.insert(same_state[-1] + 1 if same_state else len(statuses), new)
        self._configure(item_type, kind, statuses, given, new, {}, actor, correlation_id)

    def change(
        self,
        item_type: str,
        kind: str,
        wanted: str,
        given: dict[str, Any],
        actor: str,
        correlation_id: str,
    ) -> None:
        """Rename, recolour, move, or make the default of its state, what `given` says."""
        statuses = self.of_type(item_type, kind)
        status = next(s for s in statuses if s["id"] == wanted)
        if status["retired"]:
            raise InvalidValueError("status", "a retired status does not change")
        if "state" in given and given["state"] != status["state"]:
            raise InvalidValueError(
                "state",
                "a status keeps its state: add one in the other state and retire this one"
                " with it as the replacement",
            )
        moves = {}
        if "name" in given:
            name = _name(given["name"])
            if name != status["name"]:
                moves[status["name"]] = status["id"]
                former = status.get("former_names", [])
                status["former_names"] = [*former, status["name"]]
                status["name"] = name
        if "color" in given:
            status["color"] = _color(given["color"])
        waits = bool(status.get("waits_on_customer"))
        if (
            "waits_on_customer" in given
            and _flag("waits_on_customer", given["waits_on_customer"]) != waits
        ):
            raise InvalidValueError(
                "waits_on_customer",
                "a status keeps whether it waits on the customer (its items' past depends on"
                " it): add one that does and retire this one with it as the replacement",
            )
        self._configure(item_type, kind, statuses, given, status, moves, actor, correlation_id)

    def retire(
        self,
        item_type: str,
        kind: str,
        wanted: str,
        replacement: str | None,
        actor: str,
        correlation_id: str,
    ) -> None:
        """Retire a status; the items in it move to `replacement` (a status of the same type
        in use; none given: the default of its state, for any item that took it while it
        was being retired). The default of its state passes to the replacement if it is of
        that state, else to the first status of that state."""
        statuses = self.of_type(item_type, kind)
        status = next(s for s in statuses if s["id"] == wanted)
        if status["retired"]:
            return
        instead = None
        if replacement is not None:
            instead = next(
                (s for s in statuses if s["id"] == replacement and not s["retired"]), None
            )
            if instead is None or instead is status:
                raise InvalidValueError(
                    "replacement", "the replacement is another status of the type, in use"
                )
        status["retired"] = True
        status["replaced_by"] = instead["id"] if instead else None
        same = [s for s in statuses if s["state"] == status["state"] and not s["retired"]]
        if status["default"]:
            status["default"] = False
            chosen = instead if instead is not None and instead in same else None
            if same:
                (chosen or same[0])["default"] = True
        fallback = next((s for s in same if s["default"]), None)
        target = instead or fallback
        moves = {status["name"]: target["id"]} if target is not None else {}
        self._configure(item_type, kind, statuses, {}, status, moves, actor, correlation_id)

    def resolve(self, item_type: str, kind: str, wanted: str) -> dict[str, Any] | None:
        """The status in use that status `wanted` leads to now: itself, or (retired) its
        replacement's, followed on, else the default of its state."""
        statuses = {s["id"]: s for s in self.of_type(item_type, kind)}
        seen: set[str] = set()
        status = statuses.get(wanted)
        while status is not None and status["retired"] and status["id"] not in seen:
            seen.add(status["id"])
            following = status.get("replaced_by")
            if following is None:
                state = status["state"]
                return next(
                    (s for s in statuses.values()
                     if s["state"] == state and s["default"] and not s["retired"]),
                    None,
                )  # fmt: skip
            status = statuses.get(following)
        return status if status is not None and not status["retired"] else None

    def _configure(
        self,
        item_type: str,
        kind: str,
        statuses: list[dict[str, Any]],
        given: dict[str, Any],
        status: dict[str, Any],
        moves: dict[str, str],
        actor: str,
        correlation_id: str,
    ) -> None:
        """Apply `given`'s `position` and `default` to `status`, check the list, and record
        it if it changed."""
        if "position" in given:
            position = given["position"]
            if not isinstance(position, int) or isinstance(position, bool) or position < 0:
                raise InvalidValueError("position", "a position is a whole number from 0")
            statuses.remove(status)
            statuses.insert(min(position, len(statuses)), status)
        if given.get("default") is True:
            for s in statuses:
                if s["state"] == status["state"]:
                    s["default"] = s is status
        elif given.get("default") is False and status["default"]:
            raise InvalidValueError(
                "default", "make another status of its state the default instead"
            )
        _checked(statuses)
        if statuses != self.of_type(item_type, kind):
            self._configured(
                item_type=item_type,
                statuses=statuses,
                moves=moves,
                actor=actor,
                correlation_id=correlation_id,
            )

    @event("Configured", topic="ledgerdesk:Statuses.Configured")
    def _configured(
        self,
        item_type: str,
        statuses: list[dict[str, Any]],
        moves: dict[str, str],
        actor: str,
        correlation_id: str,
    ) -> None:
        self.lists[item_type] = statuses
