"""Web forms: a form offers one item type at `/forms/{key}` — to signed-in contacts, and to
anyone when it is marked anonymous (an anonymous sender confirms their address first).
One aggregate holds every form; every change is an event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError
from domain.intake.item_types import KEY

WEB_FORMS_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/intake/forms")
INTRO_MAX = 2000


class FormNotFoundError(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no form {key!r}")
        self.key = key


def checked_form(key: str, given: dict[str, Any], base: dict[str, Any] | None) -> dict[str, Any]:
    """A form's definition: `base` (None for a new one) changed by `given`;
    InvalidValueError names what is wrong. The item type is checked by the caller."""
    if not KEY.fullmatch(key):
        raise InvalidValueError(
            "key", "lowercase letters, digits and _ (at most 40), from a letter"
        )
    out = dict(base or {"key": key, "name": "", "item_type": "ticket", "anonymous": False,
                        "active": True, "intro": ""})  # fmt: skip
    if base is None and "name" not in given:
        raise InvalidValueError("name", "required")
    if "name" in given:
        name = given["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise InvalidValueError("name", "a name of 1 to 100 characters")
        out["name"] = name.strip()
    if "item_type" in given:
        if not isinstance(given["item_type"], str):
            raise InvalidValueError("item_type", "an item type's key")
        out["item_type"] = given["item_type"]
    for flag in ("anonymous", "active"):
        if flag in given:
            if not isinstance(given[flag], bool):
                raise InvalidValueError(flag, "true or false")
            out[flag] = given[flag]
    if "intro" in given:
        intro = given["intro"]
        if not isinstance(intro, str) or len(intro) > INTRO_MAX:
            raise InvalidValueError("intro", f"a text of at most {INTRO_MAX} characters")
        out["intro"] = intro.strip()
    return out


class WebForms(Aggregate):
    """Every web form, by key."""

    TOPIC = "ledgerdesk:WebForms"

    if TYPE_CHECKING:
        Defined: ClassVar[type[Aggregate.Event]]
        Deleted: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:WebForms.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:WebForms.Started"
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, actor: str, correlation_id: str) -> None:
        self.forms: dict[str, dict[str, Any]] = {}

    @classmethod
    def start(cls, actor: str, correlation_id: str) -> WebForms:
        return cls._create(cls.Started, id=WEB_FORMS_ID, actor=actor, correlation_id=correlation_id)

    def find(self, key: str) -> dict[str, Any]:
        found = self.forms.get(key)
        if found is None:
            raise FormNotFoundError(key)
        return found

    def define(self, definition: dict[str, Any], actor: str, correlation_id: str) -> None:
        """Record a form's whole definition (new or changed; nothing if the same)."""
        if self.forms.get(definition["key"]) != definition:
            self._defined(definition=definition, actor=actor, correlation_id=correlation_id)

    @event("Defined", topic="ledgerdesk:WebForms.Defined")
    def _defined(self, definition: dict[str, Any], actor: str, correlation_id: str) -> None:
        self.forms[definition["key"]] = definition

    def delete(self, key: str, actor: str, correlation_id: str) -> None:
        self.find(key)
        self._deleted(key=key, actor=actor, correlation_id=correlation_id)

    @event("Deleted", topic="ledgerdesk:WebForms.Deleted")
    def _deleted(self, key: str, actor: str, correlation_id: str) -> None:
        del self.forms[key]
