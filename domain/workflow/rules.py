"""Automation rules: what a rule is (a trigger, conditions on the item's fields combined with
all or any, and actions), how it is checked, and when it fires and matches.

A rule is checked whole (`checked_rule`), an InvalidValueError naming the part that is
wrong (`trigger.field`, `conditions.rules[1].value`, `actions[0].status`). Whether a rule
fires on something that happened to an item (`fires`) and whether the item matches its
conditions (`matches`) are pure functions of the rule, what happened and the item's fields,
so a dry run and the worker that runs the rules answer the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.errors import InvalidValueError
from domain.text import check_text
from domain.values import Channel, Priority, State

NAME_LENGTH = 100
TEMPLATE_LENGTH = 20_000
MAX_CONDITIONS = 30
MAX_ACTIONS = 20
MAX_LIST = 50
MAX_HOURS = 24 * 366
# A causal chain of rules deeper than this stops (and says which rules looped).
MAX_DEPTH = 5
SLA_STATES = ("on_track", "warning", "breached", "met")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

TRIGGERS = (
    "item_created",
    "field_changed",
    "customer_replied",
    "staff_replied",
    "internal_message",
    "time_elapsed",
)
# The item type of rules for the tickets of every type (a condition on `item_type` narrows).
EVERY_TICKET_TYPE = "*"
# The fields whose change a `field_changed` trigger names, and the kind of value each takes.
CHANGEABLE = ("status", "state", "priority", "assignee", "team", "project", "folder", "title")
CHANGE_KINDS = {
    "state": "state",
    "priority": "priority",
    "assignee": "id",
    "team": "id",
    "project": "id",
    "folder": "id",
}
# What a `time_elapsed` trigger counts from, and what must not have happened since.
SINCE = ("created", "status_changed", "customer_replied", "staff_replied")
WITHOUT = ("any_change", "staff_replied", "customer_replied", "status_changed")

# Condition fields: the kind of value each compares.
FIELDS = {
    "project": "id",
    "organisation": "id",
    "requester": "text",
    "channel": "channel",
    "priority": "priority",
    "status": "text",
    "state": "state",
    "item_type": "text",
    "assignee": "id",
    "team": "id",
    "text": "text",
    "sla_state": "sla_state",
}
OPERATORS = ("is", "is_not", "in", "not_in", "contains", "not_contains", "is_set", "is_not_set")
TEXT_ONLY = ("contains", "not_contains")
NO_VALUE = ("is_set", "is_not_set")
LISTED = ("in", "not_in")

ACTIONS = (
    "set_status",
    "set_priority",
    "assign",
    "set_team",
    "move",
    "add_follower",
    "reply",
    "internal_message",
    "apply_sla",
    "send_email",
    "convert_to_task",
)


@dataclass(frozen=True)
class Happened:
    """Something that happened to an item, as triggers see it: `kind` (one of `TRIGGERS`
    but `time_elapsed`), and for `field_changed` the field and its values before and after
    (ids and names as text; None: not set)."""

    kind: str
    field: str | None = None
    before: str | None = None
    after: str | None = None


# --- checking -------------------------------------------------------------------------------


def checked_rule(given: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """`base` (a rule, or a new one's blank) with what is `given` (name, item_type, enabled,
    trigger, conditions, actions), checked whole."""
    rule = dict(base)
    for key in given:
        if key not in ("name", "item_type", "enabled", "trigger", "conditions", "actions"):
            raise InvalidValueError(key, f"a rule has no {key!r}")
    if "name" in given:
        rule["name"] = _name(given["name"])
    if "item_type" in given:
        rule["item_type"] = _text(given["item_type"], "item_type", 40)
    if "enabled" in given:
        rule["enabled"] = _bool(given["enabled"], "enabled")
    if "trigger" in given:
        rule["trigger"] = _trigger(given["trigger"])
    if "conditions" in given:
        rule["conditions"] = _conditions(given["conditions"])
    if "actions" in given:
        rule["actions"] = _actions(given["actions"])
    if not rule.get("name"):
        raise InvalidValueError("name", "a rule needs a name")
    if not rule.get("trigger"):
        raise InvalidValueError("trigger", "a rule needs a trigger")
    if not rule.get("actions"):
        raise InvalidValueError("actions", "a rule needs at least one action")
    return rule


def blank_rule(rule_id: str, item_type: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": "",
        "item_type": item_type,
        "enabled": True,
        "trigger": None,
        "conditions": {"match": "all", "rules": []},
        "actions": [],
    }


def _name(value: Any) -> str:
    name = _text(value, "name", NAME_LENGTH)
    if not name:
        raise InvalidValueError("name", "a rule needs a name")
    return name


def _text(value: Any, where: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidValueError(where, f"{where} is text")
    check_text(value, where)
    text = value.strip()
    if len(text) > limit:
        raise InvalidValueError(where, f"{where} is at most {limit} characters")
    return text


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidValueError(where, f"{where} is true or false")
    return value


def _id(value: Any, where: str) -> str:
    if isinstance(value, str):
        try:
            return str(UUID(value))
        except ValueError:
            pass
    raise InvalidValueError(where, f"{where} is an id (a UUID)")


def _object(value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidValueError(where, f"{where} is an object")
    for key in value:
        if key not in allowed:
            raise InvalidValueError(f"{where}.{key}", f"{where} has no {key!r}")
    return value


def _choice(value: Any, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidValueError(where, f"{where} is one of {', '.join(choices)}")
    return str(value)


def _trigger(value: Any) -> dict[str, Any]:
    given = _object(value, "trigger", ("type", "field", "from", "to", "hours", "since", "without"))
    kind = _choice(given.get("type"), "trigger.type", TRIGGERS)
    trigger: dict[str, Any] = {"type": kind}
    if kind == "field_changed":
        field = trigger["field"] = _choice(given.get("field"), "trigger.field", CHANGEABLE)
        for end in ("from", "to"):
            if given.get(end) is not None:
                trigger[end] = _value(CHANGE_KINDS.get(field, "text"), given[end], f"trigger.{end}")
    elif kind == "time_elapsed":
        hours = given.get("hours")
        if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_HOURS:
            raise InvalidValueError("trigger.hours", f"whole hours from 1 to {MAX_HOURS}")
        trigger["hours"] = hours
        trigger["since"] = _choice(given.get("since"), "trigger.since", SINCE)
        if given.get("without") is not None:
            trigger["without"] = _choice(given["without"], "trigger.without", WITHOUT)
    for key in ("field", "from", "to", "hours", "since", "without"):
        if key in given and key not in trigger and given[key] is not None:
            raise InvalidValueError(f"trigger.{key}", f"a {kind} trigger takes no {key!r}")
    return trigger


def _conditions(value: Any) -> dict[str, Any]:
    given = _object(value, "conditions", ("match", "rules"))
    match = _choice(given.get("match", "all"), "conditions.match", ("all", "any"))
    rules = given.get("rules", [])
    if not isinstance(rules, list) or len(rules) > MAX_CONDITIONS:
        raise InvalidValueError("conditions.rules", f"a list of at most {MAX_CONDITIONS}")
    return {"match": match, "rules": [_condition(r, i) for i, r in enumerate(rules)]}


def _condition(value: Any, index: int) -> dict[str, Any]:
    where = f"conditions.rules[{index}]"
    given = _object(value, where, ("field", "operator", "value"))
    field = _choice(given.get("field"), f"{where}.field", tuple(FIELDS))
    operator = _choice(given.get("operator"), f"{where}.operator", OPERATORS)
    kind = FIELDS[field]
    if operator in TEXT_ONLY and kind != "text":
        raise InvalidValueError(f"{where}.operator", f"{field} is not text: use is or in")
    condition: dict[str, Any] = {"field": field, "operator": operator}
    if operator in NO_VALUE:
        if given.get("value") is not None:
            raise InvalidValueError(f"{where}.value", f"{operator} takes no value")
        return condition
    raw = given.get("value")
    if operator in LISTED:
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LIST:
            raise InvalidValueError(f"{where}.value", f"a list of 1 to {MAX_LIST} values")
        condition["value"] = [_value(kind, v, f"{where}.value[{i}]") for i, v in enumerate(raw)]
    else:
        condition["value"] = _value(kind, raw, f"{where}.value")
    return condition


def _value(kind: str, value: Any, where: str) -> str:
    if kind == "id":
        return _id(value, where)
    choices = {
        "channel": tuple(c.value for c in Channel),
        "priority": tuple(p.value for p in Priority),
        "state": tuple(s.value for s in State),
        "sla_state": SLA_STATES,
    }.get(kind)
    if choices is not None:
        return _choice(value, where, choices)
    text = _text(value, where, 200)
    if not text:
        raise InvalidValueError(where, f"{where} is not empty")
    return text


def checked_actions(value: Any) -> list[dict[str, Any]]:
    """A rule's actions, checked (what `checked_rule` does with `actions`)."""
    return _actions(value)


def _actions(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ACTIONS:
        raise InvalidValueError("actions", f"a list of 1 to {MAX_ACTIONS} actions")
    actions = [_action(a, i) for i, a in enumerate(value)]
    for i, action in enumerate(actions[:-1]):
        if action["type"] == "convert_to_task":
            raise InvalidValueError(
                f"actions[{i}].type", "converting to a task comes last (the ticket then ends)"
            )
    return actions


ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "set_status": ("status",),
    "set_priority": ("priority",),
    "assign": ("user_ids",),
    "set_team": ("team_id",),
    "move": ("project_id", "folder_id"),
    "add_follower": ("user_id",),
    "reply": ("body",),
    "internal_message": ("body",),
    "apply_sla": ("policy_id",),
    "send_email": ("to", "subject", "body"),
    "convert_to_task": (),
}


def _action(value: Any, index: int) -> dict[str, Any]:
    where = f"actions[{index}]"
    if not isinstance(value, dict):
        raise InvalidValueError(where, f"{where} is an object")
    kind = _choice(value.get("type"), f"{where}.type", ACTIONS)
    given = _object(value, where, ("type", *ACTION_FIELDS[kind]))
    action: dict[str, Any] = {"type": kind}
    if kind == "set_status":
        action["status"] = _value("text", given.get("status"), f"{where}.status")
    elif kind == "set_priority":
        action["priority"] = _value("priority", given.get("priority"), f"{where}.priority")
    elif kind == "assign":
        users = given.get("user_ids")
        if not isinstance(users, list) or not 1 <= len(users) <= MAX_LIST:
            raise InvalidValueError(f"{where}.user_ids", f"a list of 1 to {MAX_LIST} user ids")
        action["user_ids"] = [_id(u, f"{where}.user_ids[{i}]") for i, u in enumerate(users)]
    elif kind == "set_team":
        if "team_id" not in given:
            raise InvalidValueError(f"{where}.team_id", "a team's id, or null for none")
        team = given.get("team_id")
        action["team_id"] = None if team is None else _id(team, f"{where}.team_id")
    elif kind == "move":
        action["project_id"] = _id(given.get("project_id"), f"{where}.project_id")
        folder = given.get("folder_id")
        action["folder_id"] = None if folder is None else _id(folder, f"{where}.folder_id")
    elif kind == "add_follower":
        action["user_id"] = _id(given.get("user_id"), f"{where}.user_id")
    elif kind in ("reply", "internal_message"):
        action["body"] = _template(given.get("body"), f"{where}.body")
    elif kind == "apply_sla":
        if "policy_id" not in given:
            raise InvalidValueError(f"{where}.policy_id", "a policy's id, or null for the default")
        policy = given.get("policy_id")
        action["policy_id"] = None if policy is None else _id(policy, f"{where}.policy_id")
    elif kind == "send_email":
        action["to"] = _recipients(given.get("to"), f"{where}.to")
        action["subject"] = _value("text", given.get("subject"), f"{where}.subject")
        action["body"] = _template(given.get("body"), f"{where}.body")
    return action


def _template(value: Any, where: str) -> str:
    body = _text(value, where, TEMPLATE_LENGTH)
    if not body:
        raise InvalidValueError(where, f"{where} is not empty")
    return body


def _recipients(value: Any, where: str) -> list[str]:
    """Addresses, or `requester`, `assignees`, `followers`: who the item names."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
        raise InvalidValueError(where, f"a list of 1 to {MAX_LIST} recipients")
    found = []
    for i, one in enumerate(value):
        text = _text(one, f"{where}[{i}]", 254)
        if text not in ("requester", "assignees", "followers") and not EMAIL.fullmatch(text):
            raise InvalidValueError(
                f"{where}[{i}]", "an address, or requester, assignees or followers"
            )
        found.append(text.lower() if "@" in text else text)
    return found


# --- firing and matching --------------------------------------------------------------------


def fires(trigger: dict[str, Any], happened: Happened) -> bool:
    """Whether `trigger` fires on `happened` (a time-based trigger never does: the worker's
    tick looks for the items whose time has come)."""
    if trigger["type"] != happened.kind:
        return False
    if trigger["type"] != "field_changed":
        return bool(trigger["type"] != "time_elapsed")
    if trigger["field"] != happened.field:
        return False
    return all(
        trigger.get(end) is None or _same(trigger[end], value)
        for end, value in (("from", happened.before), ("to", happened.after))
    )


def matches(conditions: dict[str, Any], item: dict[str, Any]) -> bool:
    """Whether `item` (its fields by condition field: ids and names as text, `assignee` a
    list, `text` its title and description) meets `conditions`."""
    rules = conditions["rules"]
    if not rules:
        return True  # No condition: every item.
    results = (_holds(c, item) for c in rules)
    return all(results) if conditions["match"] == "all" else any(results)


def _holds(condition: dict[str, Any], item: dict[str, Any]) -> bool:
    operator = condition["operator"]
    wanted: Any = condition.get("value")
    found = item.get(condition["field"])
    values = [v for v in (found if isinstance(found, list) else [found]) if v is not None]
    if operator == "is_set":
        return bool(values)
    if operator == "is_not_set":
        return not values
    if operator == "is":
        return any(_same(wanted, v) for v in values)
    if operator == "is_not":
        return not any(_same(wanted, v) for v in values)
    if operator == "in":
        return any(_same(w, v) for w in wanted for v in values)
    if operator == "not_in":
        return not any(_same(w, v) for w in wanted for v in values)
    contained = any(wanted.casefold() in str(v).casefold() for v in values)
    return contained if operator == "contains" else not contained


def _same(wanted: str, value: Any) -> bool:
    return value is not None and str(value).casefold() == wanted.casefold()
