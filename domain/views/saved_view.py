"""The SavedView aggregate: a definition a staff user saved, private or shared with users,
teams or all staff — a view of the items (kind `view`), a dashboard of widgets (kind
`dashboard`) or a report template and how to run it (kind `report`); and the system views
every install ships, shared with all staff, which admins may edit but nobody deletes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ConflictError, InvalidValueError, NotFoundError
from domain.values import check_name
from domain.views.dashboard import checked_dashboard
from domain.views.definition import ME, checked_definition
from domain.views.report import checked_report

SYSTEM_NAMESPACE = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/views/system")
MAX_NAME = 120
MAX_SHARES = 200


# What a saved definition is of, and how each kind's definition is checked.
CHECKERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "view": checked_definition,
    "dashboard": checked_dashboard,
    "report": checked_report,
}
NOUNS = {"view": "view", "dashboard": "dashboard", "report": "report"}
MISSING = {"view": "saved view", "dashboard": "dashboard", "report": "saved report"}


class SavedViewNotFoundError(NotFoundError):
    def __init__(self, view_id: str, kind: str = "view") -> None:
        super().__init__(f"no {MISSING[kind]} {view_id}")


class SystemViewError(ConflictError):
    """Raised on deleting a system view."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is a system view: it can be changed, not deleted")


def system_view_id(key: str) -> UUID:
    return uuid5(SYSTEM_NAMESPACE, key)


def _system(key: str, name: str, definition: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(system_view_id(key)), "name": name, "definition": definition}


# Shipped with every install, shared with all staff, in this order.
SYSTEM_VIEWS: tuple[dict[str, Any], ...] = (
    _system(
        "my-open-items",
        "My open items",
        {
            "filter": {
                "and": [
                    {"field": "assignee", "op": "eq", "value": ME},
                    {"field": "state", "op": "ne", "value": "finished"},
                ]
            },
            "sort": "-priority",
        },
    ),
    _system(
        "unassigned-tickets",
        "Unassigned tickets",
        {
            "kinds": ["ticket"],
            "filter": {
                "and": [
                    {"field": "assignee", "op": "empty", "value": True},
                    {"field": "state", "op": "ne", "value": "finished"},
                ]
            },
            "sort": "created_at",
        },
    ),
    _system(
        "sla-at-risk",
        "SLA at risk",
        {
            "filter": {"field": "sla_state", "op": "in", "value": ["warning", "breached"]},
            "group_by": ["sla_state"],
            "columns": ["number", "title", "status", "priority", "assignees", "sla_due"],
            "sort": "sla_due",
        },
    ),
)
SYSTEM_IDS = frozenset(v["id"] for v in SYSTEM_VIEWS)


def clean_view_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidValueError("name", "name must be a text")
    cleaned = " ".join(check_name(name).split())
    if len(cleaned) > MAX_NAME:
        raise InvalidValueError("name", f"name takes at most {MAX_NAME} characters")
    return cleaned


def checked_sharing(given: Any) -> dict[str, Any]:
    """Who a view is shared with: `{"users": [ids], "teams": [ids], "all_staff": bool}`
    (nobody: private to its owner)."""
    if not isinstance(given, dict) or set(given) - {"users", "teams", "all_staff"}:
        raise InvalidValueError("sharing", "sharing is {users: [ids], teams: [ids], all_staff}")
    all_staff = given.get("all_staff", False)
    if not isinstance(all_staff, bool):
        raise InvalidValueError("sharing.all_staff", "all_staff is true or false")
    shared: dict[str, Any] = {"all_staff": all_staff}
    for part in ("users", "teams"):
        ids = given.get(part, [])
        if not isinstance(ids, list) or len(ids) > MAX_SHARES:
            raise InvalidValueError(
                f"sharing.{part}", f"{part} is a list of at most {MAX_SHARES} ids"
            )
        try:
            shared[part] = sorted({str(uuid.UUID(str(i))) for i in ids})
        except ValueError:
            raise InvalidValueError(f"sharing.{part}", f"{part} holds ids only") from None
    return shared


PRIVATE = {"users": [], "teams": [], "all_staff": False}


class SavedView(Aggregate):
    """A named definition — of a view (`domain.views.definition`), a dashboard
    (`domain.views.dashboard`) or a report (`domain.views.report`) — its owner (a user id;
    None for a system view) and who it is shared with."""

    TOPIC = "ledgerdesk:SavedView"

    if TYPE_CHECKING:
        Renamed: ClassVar[type[Aggregate.Event]]
        Redefined: ClassVar[type[Aggregate.Event]]
        Shared: ClassVar[type[Aggregate.Event]]
        Deleted: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:SavedView.Created"

    class Saved(Aggregate.Created):
        """Saved. v2 added `kind` (`view`, `dashboard`, `report`; earlier ones are all
        views)."""

        TOPIC = "ledgerdesk:SavedView.Saved"
        class_version = 2
        kind: str
        name: str
        owner: str | None
        system: bool
        definition: dict[str, Any]
        sharing: dict[str, Any]
        actor: str
        correlation_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["kind"] = "view"

    @event(Saved)
    def __init__(
        self,
        kind: str,
        name: str,
        owner: str | None,
        system: bool,
        definition: dict[str, Any],
        sharing: dict[str, Any],
        actor: str,
        correlation_id: str,
    ) -> None:
        self.kind = kind
        self.name = name
        self.owner = owner
        self.system = system
        self.definition = definition
        self.sharing = sharing
        self.deleted = False

    @classmethod
    def save(
        cls,
        *,
        view_id: UUID,
        name: Any,
        owner: UUID,
        definition: Any,
        sharing: Any,
        actor: str,
        correlation_id: str,
        kind: str = "view",
    ) -> SavedView:
        """A user's new view or dashboard (its definition and sharing checked here)."""
        return cls._create(
            cls.Saved,
            id=view_id,
            kind=kind,
            name=clean_view_name(name),
            owner=str(owner),
            system=False,
            definition=CHECKERS[kind](definition),
            sharing=checked_sharing(sharing if sharing is not None else PRIVATE),
            actor=actor,
            correlation_id=correlation_id,
        )

    @classmethod
    def system_view(cls, view_id: str, actor: str, correlation_id: str) -> SavedView:
        """A system view as shipped: recorded the first time an admin changes it."""
        shipped = next((v for v in SYSTEM_VIEWS if v["id"] == view_id), None)
        if shipped is None:
            raise SavedViewNotFoundError(view_id)
        return cls._create(
            cls.Saved,
            id=UUID(view_id),
            kind="view",
            name=shipped["name"],
            owner=None,
            system=True,
            definition=checked_definition(shipped["definition"]),
            sharing={"users": [], "teams": [], "all_staff": True},
            actor=actor,
            correlation_id=correlation_id,
        )

    def _check_live(self) -> None:
        if self.deleted:
            raise SavedViewNotFoundError(str(self.id), self.kind)

    def rename(self, name: Any, actor: str, correlation_id: str) -> None:
        self._check_live()
        name = clean_view_name(name)
        if name != self.name:
            self._renamed(name=name, actor=actor, correlation_id=correlation_id)

    @event("Renamed", topic="ledgerdesk:SavedView.Renamed")
    def _renamed(self, name: str, actor: str, correlation_id: str) -> None:
        self.name = name

    def redefine(self, definition: Any, actor: str, correlation_id: str) -> None:
        self._check_live()
        definition = CHECKERS[self.kind](definition)
        if definition != self.definition:
            self._redefined(definition=definition, actor=actor, correlation_id=correlation_id)

    @event("Redefined", topic="ledgerdesk:SavedView.Redefined")
    def _redefined(self, definition: dict[str, Any], actor: str, correlation_id: str) -> None:
        self.definition = definition

    def share(self, sharing: Any, actor: str, correlation_id: str) -> None:
        self._check_live()
        sharing = checked_sharing(sharing)
        if self.system and not sharing["all_staff"]:
            raise InvalidValueError("sharing.all_staff", "a system view is shared with all staff")
        if sharing != self.sharing:
            self._shared(sharing=sharing, actor=actor, correlation_id=correlation_id)

    @event("Shared", topic="ledgerdesk:SavedView.Shared")
    def _shared(self, sharing: dict[str, Any], actor: str, correlation_id: str) -> None:
        self.sharing = sharing

    def delete(self, actor: str, correlation_id: str) -> None:
        self._check_live()
        if self.system:
            raise SystemViewError(self.name)
        self._deleted(actor=actor, correlation_id=correlation_id)

    @event("Deleted", topic="ledgerdesk:SavedView.Deleted")
    def _deleted(self, actor: str, correlation_id: str) -> None:
        self.deleted = True
