"""Item types: what kind of request an item is (a ticket, feedback, a feature request, a bug
report, or a type admins add), with the fields a form asks for, which of them are required,
where its items go and whether customers may choose it.

One aggregate holds every type the admins changed; the shipped types count with their
defaults until then. Every change is an event, so the history of each type is kept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValueError, NotFoundError
from domain.values import Priority

ITEM_TYPES_ID = uuid5(NAMESPACE_URL, "https://ledgerdesk.invalid/intake/item-types")
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
# The fields every item has; a type says whether a form asks for them and requires them.
STANDARD = ("title", "description", "priority")
CUSTOM_TYPES = ("text", "textarea", "choice")
TEXT_MAX = {"text": 2000, "textarea": 200_000}
MAX_FIELDS = 30
# Names the forms' own inputs use: no custom field may take one.
RESERVED = frozenset(
    {"csrf", "website", "shown", "email", "name", "item_type", "attachments", "type", "lang",
     "next", "action", "body"}
)  # fmt: skip
MAX_CHOICES = 100


class FieldValueError(InvalidValueError):
    """A form's field filled in wrongly: `code` says how (`required`, `choice`, `length`)."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(field, message)
        self.code = code


class ItemTypeNotFoundError(NotFoundError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no item type {key!r}")
        self.key = key


def _defaults(key: str, name: str, priority: bool = False) -> dict[str, Any]:
    fields = [
        {"key": "title", "required": True},
        {"key": "description", "required": False},
        *([{"key": "priority", "required": False}] if priority else []),
    ]
    return {
        "key": key, "name": name, "kind": "ticket", "fields": fields, "project_id": None,
        "folder_id": None, "customer_visible": True, "retired": False, "builtin": True,
    }  # fmt: skip


# The shipped types, as they are until admins change them ("task" is the planner's items).
BUILTIN: dict[str, dict[str, Any]] = {
    "ticket": _defaults("ticket", "Ticket"),
    "feedback": _defaults("feedback", "Feedback"),
    "feature_request": _defaults("feature_request", "Feature request", priority=True),
    "bug_report": _defaults("bug_report", "Bug report", priority=True),
    "task": {**_defaults("task", "Task"), "kind": "task", "customer_visible": False},
}
DEFAULT_TYPE = {"ticket": "ticket", "task": "task"}


@dataclass(frozen=True)
class Submitted:
    """What a person filled in, checked against the type: the standard fields and the
    custom ones (by key, as text)."""

    title: str
    description: str
    priority: str
    values: dict[str, str]


def checked_definition(key: str, given: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """`base` (a type's definition) changed by `given`; InvalidValueError names what is wrong.
    The key, kind and whether it is shipped never change here."""
    if not KEY.fullmatch(key):
        raise InvalidValueError(
            "key", "lowercase letters, digits and _ (at most 40), from a letter"
        )
    out = {**base, "key": key}
    if "name" in given:
        name = given["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise InvalidValueError("name", "a name of 1 to 100 characters")
        out["name"] = name.strip()
    for flag in ("customer_visible",):
        if flag in given:
            if not isinstance(given[flag], bool):
                raise InvalidValueError(flag, "true or false")
            out[flag] = given[flag]
    for place in ("project_id", "folder_id"):
        if place in given:
            out[place] = None if given[place] is None else str(given[place])
    if out["kind"] == "task" and out["customer_visible"]:
        raise InvalidValueError("customer_visible", "customers open tickets, not tasks")
    if out["folder_id"] is not None and out["project_id"] is None:
        raise InvalidValueError("folder_id", "a folder needs its project_id")
    if "fields" in given:
        out["fields"] = checked_fields(given["fields"])
    return out


def checked_fields(fields: Any) -> list[dict[str, Any]]:
    """A type's fields: the standard ones by key (title always, and required), custom ones
    with a label, a type and, for a choice, its choices."""
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise InvalidValueError("fields", f"a list of at most {MAX_FIELDS} fields")
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for index, field in enumerate(fields):
        where = f"fields[{index}]"
        if not isinstance(field, dict) or not isinstance(field.get("key"), str):
            raise InvalidValueError(where, "a field with a key")
        key = field["key"]
        if not KEY.fullmatch(key) or key in seen:
            raise InvalidValueError(f"{where}.key", "a unique key of lowercase letters, digits, _")
        if key in RESERVED:
            raise InvalidValueError(f"{where}.key", f"{key!r} is a name the forms use themselves")
        seen.add(key)
        required = field.get("required", False)
        if not isinstance(required, bool):
            raise InvalidValueError(f"{where}.required", "true or false")
        if key in STANDARD:
            out.append({"key": key, "required": required or key == "title"})
            continue
        out.append({"key": key, "required": required, **_custom(field, where)})
    if "title" not in seen:
        out.insert(0, {"key": "title", "required": True})
    return out


def _custom(field: dict[str, Any], where: str) -> dict[str, Any]:
    label, kind = field.get("label"), field.get("type")
    if not isinstance(label, str) or not label.strip() or len(label) > 200:
        raise InvalidValueError(f"{where}.label", "a label of 1 to 200 characters")
    if kind not in CUSTOM_TYPES:
        raise InvalidValueError(f"{where}.type", f"one of {', '.join(CUSTOM_TYPES)}")
    custom: dict[str, Any] = {"label": label.strip(), "type": kind}
    if kind == "choice":
        choices = field.get("choices")
        if (
            not isinstance(choices, list)
            or not 1 <= len(choices) <= MAX_CHOICES
            or not all(isinstance(c, str) and c.strip() and len(c) <= 200 for c in choices)
            or len(set(choices)) != len(choices)
        ):
            raise InvalidValueError(
                f"{where}.choices", f"1 to {MAX_CHOICES} distinct texts of at most 200 characters"
            )
        custom["choices"] = [c.strip() for c in choices]
    return custom


def check_submission(definition: dict[str, Any], given: dict[str, str]) -> Submitted:
    """What a person sent on a form of this type, checked: every required field filled, a
    choice among its choices, texts within their lengths; InvalidValueError names the field.
    Fields the type does not ask for are ignored."""
    fields = {f["key"]: f for f in definition["fields"]}
    values: dict[str, str] = {}
    for key, field in fields.items():
        value = given.get(key, "").strip()
        if not value:
            if field["required"]:
                raise FieldValueError(key, "required", "required")
            continue
        kind = field.get("type", {"title": "text", "description": "textarea"}.get(key, "choice"))
        if key == "title" and len(value) > 500:
            raise FieldValueError(key, "length", "at most 500 characters")
        if key == "priority":
            if value not in {p.value for p in Priority}:
                raise FieldValueError(key, "choice", "one of low, normal, high, urgent")
        elif kind == "choice" and value not in field["choices"]:
            raise FieldValueError(key, "choice", "one of the choices offered")
        elif kind in TEXT_MAX and len(value) > TEXT_MAX[kind]:
            raise FieldValueError(key, "length", f"at most {TEXT_MAX[kind]} characters")
        values[key] = value
    return Submitted(
        title=values.pop("title", ""),
        description=values.pop("description", ""),
        priority=values.pop("priority", Priority.NORMAL.value),
        values=values,
    )


def check_fields(definition: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """Custom field values given for an item of this type (by staff or an import: none is
    required of them), each a field of the type, a choice among its choices, within its
    length; InvalidValueError names the first that is not."""
    custom = {f["key"]: f for f in definition["fields"] if f["key"] not in STANDARD}
    out: dict[str, str] = {}
    for key, value in given.items():
        field = custom.get(key)
        if field is None:
            raise InvalidValueError(f"fields.{key}", f"no such field of {definition['key']!r}")
        value = value.strip()
        if not value:
            continue
        if field["type"] == "choice" and value not in field["choices"]:
            raise InvalidValueError(f"fields.{key}", "one of the field's choices")
        if field["type"] in TEXT_MAX and len(value) > TEXT_MAX[field["type"]]:
            raise InvalidValueError(
                f"fields.{key}", f"at most {TEXT_MAX[field['type']]} characters"
            )
        out[key] = value
    return out


def kept_fields(definition: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """The values of `given` the type still takes (its fields or their choices may have
    changed since they were sent): the others are dropped, not refused."""
    kept: dict[str, str] = {}
    for key, value in given.items():
        try:
            kept.update(check_fields(definition, {key: value}))
        except InvalidValueError:
            continue
    return kept


class ItemTypes(Aggregate):
    """Every item type admins defined or changed (the shipped ones count until then)."""

    TOPIC = "ledgerdesk:ItemTypes"

    if TYPE_CHECKING:
        Defined: ClassVar[type[Aggregate.Event]]
        Retired: ClassVar[type[Aggregate.Event]]

    class Created(Aggregate.Created):
        TOPIC = "ledgerdesk:ItemTypes.Created"

    class Started(Aggregate.Created):
        TOPIC = "ledgerdesk:ItemTypes.Started"
        actor: str
        correlation_id: str

    @event(Started)
    def __init__(self, actor: str, correlation_id: str) -> None:
        self.types: dict[str, dict[str, Any]] = {}

    @classmethod
    def start(cls, actor: str, correlation_id: str) -> ItemTypes:
        return cls._create(
            cls.Started, id=ITEM_TYPES_ID, actor=actor, correlation_id=correlation_id
        )

    def define(self, definition: dict[str, Any], actor: str, correlation_id: str) -> None:
        """Record a type's whole definition (a new one, or a change: nothing if the same)."""
        if current(self).get(definition["key"]) != definition:
            self._defined(definition=definition, actor=actor, correlation_id=correlation_id)

    @event("Defined", topic="ledgerdesk:ItemTypes.Defined")
    def _defined(self, definition: dict[str, Any], actor: str, correlation_id: str) -> None:
        self.types[definition["key"]] = definition

    def retire(self, key: str, actor: str, correlation_id: str) -> None:
        """No new item may be of this type (its items keep it); the default types stay."""
        found = current(self).get(key)
        if found is None:
            raise ItemTypeNotFoundError(key)
        if key in DEFAULT_TYPE.values():
            raise InvalidValueError("key", f"{key!r} is the default type of its kind")
        if not found["retired"]:
            self._retired(key=key, actor=actor, correlation_id=correlation_id)

    @event("Retired", topic="ledgerdesk:ItemTypes.Retired")
    def _retired(self, key: str, actor: str, correlation_id: str) -> None:
        base = self.types.get(key) or BUILTIN[key]
        self.types[key] = {**base, "retired": True}


def current(stored: ItemTypes | None) -> dict[str, dict[str, Any]]:
    """Every type now: the shipped ones with their defaults, then what admins changed."""
    types = {key: dict(value) for key, value in BUILTIN.items()}
    if stored is not None:
        types.update({key: dict(value) for key, value in stored.types.items()})
    return types


def customer_choosable(definition: dict[str, Any]) -> bool:
    """Whether customers may open an item of this type: a type of tickets, customer-visible,
    not retired."""
    return (
        definition["kind"] == "ticket"
        and definition["customer_visible"]
        and not definition["retired"]
    )


def usable(stored: ItemTypes | None, key: str, kind: str) -> dict[str, Any]:
    """The definition of type `key` for a new item of `kind` (ticket or task):
    InvalidValueError when it is retired or of the other kind, ItemTypeNotFoundError when
    there is no such type."""
    found = current(stored).get(key)
    if found is None:
        raise ItemTypeNotFoundError(key)
    if found["kind"] != kind:
        raise InvalidValueError("item_type", f"{key!r} is a type of {found['kind']}s")
    if found["retired"]:
        raise InvalidValueError("item_type", f"{key!r} is retired")
    return found
