"""The embeddable widgets: each is a launcher any allowed website shows, opening our frame
with the customer app's tabs. Admins define them; a widget's allowed host sites (origins
such as `https://www.example.com`) are the only pages that may frame it (CSP
`frame-ancestors`) or read our customer API from their scripts (CORS).

One aggregate for the install holds every widget, as item types are held: a widget's whole
definition is recorded at each change, and removing one keeps its history."""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit
from uuid import NAMESPACE_URL, UUID, uuid5

import idna
from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError

WIDGETS_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/company/widgets")
MAX_ORIGINS = 20
MAX_NAME = 200
MAX_ORIGIN = 300
_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


class WidgetNotFoundError(NotFoundError):
    def __init__(self, widget_id: UUID | str) -> None:
        super().__init__(f"no widget {widget_id}")
        self.widget_id = str(widget_id)


def checked_origin(value: Any, where: str) -> str:
    """An origin as browsers send it: `scheme://host[:port]`, the host in its ASCII form
    (an international name as punycode, `xn--...`), lower case, no default port, path,
    query, user or trailing slash; InvalidValueError says what is wrong."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ORIGIN:
        raise InvalidValueError(where, "an origin such as https://www.example.com")
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidValueError(where, f"{value!r} is not an http(s) origin")
    if parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        raise InvalidValueError(where, f"{value!r}: an origin has no path, query or user")
    try:
        port = parts.port
    except ValueError as wrong:
        raise InvalidValueError(where, f"{value!r}: the port is not a number") from wrong
    host = _ascii_host(parts.hostname, value, where)
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = "" if port in (None, default) else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


def _ascii_host(hostname: str, value: str, where: str) -> str:
    """The host as browsers send it: an IP address, or a name in IDNA's ASCII form."""
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    if "*" in hostname:
        raise InvalidValueError(where, f"{value!r}: name each site, without wildcards")
    try:
        ascii_name = idna.encode(hostname, uts46=True).decode("ascii")
    except idna.IDNAError as wrong:
        raise InvalidValueError(where, f"{value!r}: not a host name ({wrong})") from wrong
    if not _HOST.fullmatch(ascii_name):
        raise InvalidValueError(where, f"{value!r}: not a host name")
    return ascii_name


def checked_widget(given: dict[str, Any], base: dict[str, Any] | None) -> dict[str, Any]:
    """A widget's definition from what admins sent over its current one (`base`; None for
    a new one): its `name` and its `allowed_origins`, each checked and normalised."""
    merged = {**(base or {"name": "", "allowed_origins": []}), **given}
    name = merged["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidValueError("name", f"a name of 1 to {MAX_NAME} characters")
    origins = merged["allowed_origins"]
    if not isinstance(origins, list) or len(origins) > MAX_ORIGINS:
        raise InvalidValueError("allowed_origins", f"a list of at most {MAX_ORIGINS} origins")
    normal = [checked_origin(o, f"allowed_origins.{i}") for i, o in enumerate(origins)]
    return {"name": name.strip(), "allowed_origins": list(dict.fromkeys(normal))}


class Widgets(Aggregate):
    """Every widget of the install, by id (a removed one is kept, marked)."""

    TOPIC = "ledgerdesk:Widgets"

    if TYPE_CHECKING:
        Defined: ClassVar[type[Aggregate.Event]]
        Removed: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:Widgets.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:Widgets.Started"
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, actor: str, correlation_id: str) -> None:
        self.widgets: dict[str, dict[str, Any]] = {}

    @classmethod
    def start(cls, actor: str, correlation_id: str) -> Widgets:
        return cls._create(cls.Started, id=WIDGETS_ID, actor=actor, correlation_id=correlation_id)

    def get(self, widget_id: UUID | str) -> dict[str, Any]:
        found = self.widgets.get(str(widget_id))
        if found is None or found.get("removed"):
            raise WidgetNotFoundError(widget_id)
        return found

    def define(
        self, widget_id: UUID, definition: dict[str, Any], actor: str, correlation_id: str
    ) -> None:
        """Record a widget's whole definition (new, or changed: nothing if the same)."""
        current = self.widgets.get(str(widget_id))
        if current is not None and current.get("removed"):
            raise WidgetNotFoundError(widget_id)
        if current is None or {k: current[k] for k in definition} != definition:
            self._defined(
                widget_id=str(widget_id),
                definition=definition,
                actor=actor,
                correlation_id=correlation_id,
            )

    @event("Defined", topic="ledgerdesk:Widgets.Defined")
    def _defined(
        self, widget_id: str, definition: dict[str, Any], actor: str, correlation_id: str
    ) -> None:
        self.widgets[widget_id] = {**self.widgets.get(widget_id, {}), **definition}

    def remove(self, widget_id: UUID, actor: str, correlation_id: str) -> None:
        self.get(widget_id)
        self._removed(widget_id=str(widget_id), actor=actor, correlation_id=correlation_id)

    @event("Removed", topic="ledgerdesk:Widgets.Removed")
    def _removed(self, widget_id: str, actor: str, correlation_id: str) -> None:
        self.widgets[widget_id] = {**self.widgets[widget_id], "removed": True}


def live_widgets(stored: Widgets | None) -> dict[str, dict[str, Any]]:
    """The widgets in use, by id."""
    if stored is None:
        return {}
    return {k: v for k, v in stored.widgets.items() if not v.get("removed")}


def allowed_origins(stored: Widgets | None) -> frozenset[str]:
    """Every site some widget may be shown on."""
    return frozenset(o for w in live_widgets(stored).values() for o in w["allowed_origins"])


# The widget's tabs, in order, and the app each needs switched on.
TABS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chat", ("widget", "portal", "messenger")),  # The customers' chat API is the portal's.
    # The web forms' app, and the portal's: the tab sends a signed-in customer's request.
    ("new_request", ("widget", "tickets", "web_forms", "portal")),
    ("my_requests", ("widget", "tickets", "portal")),
    ("help", ("widget", "knowledge_base")),
)


def tabs(apps: dict[str, bool]) -> list[str]:
    """The tabs a widget shows while these apps are on or off."""
    return [tab for tab, needs in TABS if all(apps.get(app, False) for app in needs)]
