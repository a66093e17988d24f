"""The company's switches that admins change: which apps of the customer side are on, and
which features. One aggregate for the install; every change is an event, so the history of
who switched what, and when, is kept.

Only the switches something honours are here: a switch nothing obeys would be a lie. An app
or feature switched off answers 404 on its routes (`api.switches` lists them) and its pages,
its actors stop acting (`workers.registry`), and its data stays: switched on again, it is all
there.
Apps: `tickets`, `tasks`, `timesheets` (their API, for staff and for customers),
`portal` (the portal's pages and API), `knowledge_base` (its API and the `/kb` pages),
`web_forms` (their API and the public forms `/forms/{form}`), `messenger` (the chats: their
API for customers and staff, their streams, and the widget's Chat tab), `widget` (the
embeddable widget: its script, its frame and its API).
Features: `timers`, `timesheet_approval` (submitting, approving and rejecting entries),
`recurring_items`, `sla`, `automations`, `customer_status_changes` (customers may close and
reopen their requests in the portal), `anonymous_forms` (a form marked anonymous takes
submissions from people who are not signed in, once they confirm their address),
`anonymous_chats` (people who are not signed in may chat, with a name and an address they do
not confirm)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError
from domain.values import Actor


class AppSwitchedOffError(NotFoundError):
    """Raised on a request to an app that admins switched off (404: as if it were not there)."""

    def __init__(self, app: str) -> None:
        super().__init__(f"the {app} is disabled: an admin switched it off on this install")
        self.app = app


# Each item kind and the app it lives in.
ITEM_APPS = {"ticket": "tickets", "task": "tasks"}


def effective_apps(user_apps: str, company: Mapping[str, bool]) -> str:
    """The item apps a user uses now (`tickets`, `tasks`, `both`, `none`): theirs, while
    the company's are switched on."""
    tickets = user_apps in ("tickets", "both") and company["tickets"]
    tasks = user_apps in ("tasks", "both") and company["tasks"]
    return "both" if tickets and tasks else "tickets" if tickets else "tasks" if tasks else "none"


def kind_of(first: object) -> str:
    """The kind of item whose first event is `first`: a task is planned, a ticket opened."""
    return "task" if type(first).__name__ == "Planned" else "ticket"


COMPANY_SETTINGS_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/company/settings")
APPS: dict[str, bool] = {
    "tickets": True,
    "tasks": True,
    "timesheets": True,
    "portal": True,
    "knowledge_base": True,
    "web_forms": True,
    "messenger": True,
    "widget": True,
}
FEATURES: dict[str, bool] = {
    "timers": True,
    "timesheet_approval": True,
    "recurring_items": True,
    "sla": True,
    "automations": True,
    "customer_status_changes": False,
    "anonymous_forms": True,
    "anonymous_chats": False,
}


def checked_changes(apps: dict[str, Any], features: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """The switches to change, each known and a bool; InvalidValueError names the first
    that is not."""
    changes: dict[str, dict[str, bool]] = {"apps": {}, "features": {}}
    for group, given, known in (("apps", apps, APPS), ("features", features, FEATURES)):
        for name, value in given.items():
            if name not in known:
                raise InvalidValueError(
                    f"{group}.{name}", f"no such switch; known: {', '.join(sorted(known))}"
                )
            if not isinstance(value, bool):
                raise InvalidValueError(f"{group}.{name}", "true or false")
            changes[group][name] = value
    return changes


class CompanySettings(Aggregate):
    """The switches in force (the defaults, changed by admins)."""

    TOPIC = "ledgerdesk:CompanySettings"

    if TYPE_CHECKING:
        Changed: ClassVar[type[Aggregate.Event]]
        MessageSet: ClassVar[type[Aggregate.Event]]
        MessageReset: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:CompanySettings.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:CompanySettings.Started"
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, actor: str, correlation_id: str) -> None:
        self.apps = dict(APPS)
        self.features = dict(FEATURES)
        self.messages: dict[str, str] = {}  # The automated messages admins wrote.

    @classmethod
    def start(cls, actor: Actor, correlation_id: str) -> CompanySettings:
        return cls._create(
            cls.Started, id=COMPANY_SETTINGS_ID, actor=actor.ref, correlation_id=correlation_id
        )

    def change(
        self, changes: dict[str, dict[str, bool]], actor: Actor, correlation_id: str
    ) -> None:
        """Switch what `changes` names; only what differs is recorded (nothing: no event)."""
        apps = {k: v for k, v in changes["apps"].items() if self.apps.get(k) != v}
        features = {k: v for k, v in changes["features"].items() if self.features.get(k) != v}
        if apps or features:
            self._changed(
                apps=apps, features=features, actor=actor.ref, correlation_id=correlation_id
            )

    @event("Changed", topic="ledgerdesk:CompanySettings.Changed")
    def _changed(
        self, apps: dict[str, bool], features: dict[str, bool], actor: str, correlation_id: str
    ) -> None:
        self.apps.update(apps)
        self.features.update(features)

    def set_message(self, key: str, text: str, actor: Actor, correlation_id: str) -> None:
        """Automated message `key` says `text` (checked) from now on (the same: no event)."""
        if self.messages.get(key) != text:
            self._message_set(key=key, text=text, actor=actor.ref, correlation_id=correlation_id)

    @event("MessageSet", topic="ledgerdesk:CompanySettings.MessageSet")
    def _message_set(self, key: str, text: str, actor: str, correlation_id: str) -> None:
        self.messages[key] = text

    def reset_message(self, key: str, actor: Actor, correlation_id: str) -> None:
        """Automated message `key` says the shipped text again (it did: no event)."""
        if key in self.messages:
            self._message_reset(key=key, actor=actor.ref, correlation_id=correlation_id)

    @event("MessageReset", topic="ledgerdesk:CompanySettings.MessageReset")
    def _message_reset(self, key: str, actor: str, correlation_id: str) -> None:
        del self.messages[key]


def in_force(settings: CompanySettings | None) -> dict[str, dict[str, bool]]:
    """The switches now: the stored ones over the defaults (a switch added since counts
    with its default)."""
    apps, features = dict(APPS), dict(FEATURES)
    if settings is not None:
        apps.update({k: v for k, v in settings.apps.items() if k in APPS})
        features.update({k: v for k, v in settings.features.items() if k in FEATURES})
    return {"apps": apps, "features": features}
