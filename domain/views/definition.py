"""What a saved view is: which items (kinds, types, filters on their fields combined with
and/or), how they are grouped, which columns show, in what order, and in which layout.

`checked_definition` takes a definition as a client sends it and answers it in one normal
form, or refuses it naming the first thing wrong (as `definition.<path>`), so that every
saved view can run."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

from domain.errors import InvalidValueError
from domain.values import utc_text

KINDS = ("ticket", "task")
LAYOUTS = ("flat", "tree", "status_board", "gantt", "calendar")
STATES = ("not_started", "in_progress", "finished")
PRIORITIES = ("low", "normal", "high", "urgent")
SLA_STATES = ("on_track", "warning", "breached", "met")

# Each field a filter may name, and the kind of value it holds.
TEXT, CHOICE, ID, NUMBER, MOMENT = "text", "choice", "id", "number", "moment"
FIELDS: dict[str, str] = {
    "number": NUMBER,
    "title": TEXT,
    "description": TEXT,
    "status": TEXT,
    "requester_email": TEXT,
    "state": CHOICE,
    "priority": CHOICE,
    "kind": CHOICE,
    "item_type": TEXT,
    "sla_state": CHOICE,
    "project": ID,
    "folder": ID,
    "team": ID,
    "assignee": ID,
    "sla_policy": ID,
    "created_at": MOMENT,
    "updated_at": MOMENT,
    "sla_due": MOMENT,
}
CHOICES = {"state": STATES, "priority": PRIORITIES, "kind": KINDS, "sla_state": SLA_STATES}
# Fields an item may have no value of (`empty` asks for that).
OPTIONAL = frozenset(
    {"requester_email", "folder", "team", "assignee", "sla_state", "sla_policy", "sla_due"}
)
EQUALITY = ("eq", "ne", "in", "not_in")
ORDERED = ("gt", "gte", "lt", "lte")
OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: (*EQUALITY, "contains"),
    CHOICE: EQUALITY,
    ID: EQUALITY,
    NUMBER: (*EQUALITY, *ORDERED),
    MOMENT: ORDERED,
}
# Priorities are also ordered (low < normal < high < urgent).
PRIORITY_OPERATORS = (*EQUALITY, *ORDERED)
GROUPS = (
    "status",
    "state",
    "priority",
    "kind",
    "item_type",
    "project",
    "folder",
    "team",
    "assignee",
    "sla_state",
    "sla_policy",
    "requester_email",
)
COLUMNS = (
    "number",
    "kind",
    "item_type",
    "title",
    "status",
    "state",
    "priority",
    "requester_email",
    "assignees",
    "project_id",
    "folder_id",
    "team_id",
    "converted_from_ticket",
    "created_at",
    "updated_at",
    "sla_state",
    "sla_due",
    "sla_policy_id",
)
DEFAULT_COLUMNS = ("number", "title", "status", "priority", "assignees", "updated_at")
SORTS = ("number", "created_at", "updated_at", "priority", "title", "status", "sla_due")
ME = "me"  # An assignee filter's value for whoever runs the view.
MAX_DEPTH = 4
MAX_CONDITIONS = 50
MAX_LIST = 100
MAX_GROUPS = 3
MAX_TEXT = 200
MAX_NUMBER = 2**31 - 1
MIN_YEAR = 1000  # (Stored times are fixed-width text: years of four digits.)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _refuse(path: str, message: str) -> InvalidValueError:
    return InvalidValueError(f"definition.{path}" if path else "definition", message)


def _names(given: Any, path: str, known: tuple[str, ...], what: str) -> list[str]:
    if not isinstance(given, list) or not all(isinstance(v, str) for v in given):
        raise _refuse(path, f"{path} must be a list of {what} names")
    for name in given:
        if name not in known:
            raise _refuse(path, f"no {what} {name!r}; known: {', '.join(known)}")
    return list(dict.fromkeys(given))


def checked_definition(given: Any) -> dict[str, Any]:
    """A view's definition in normal form, or `InvalidValueError` naming what is wrong."""
    if not isinstance(given, dict):
        raise _refuse("", "definition must be an object")
    unknown = set(given) - {
        "kinds",
        "item_types",
        "filter",
        "group_by",
        "columns",
        "sort",
        "layout",
    }
    if unknown:
        raise _refuse(sorted(unknown)[0], f"unknown part {sorted(unknown)[0]!r}")
    kinds = _names(given.get("kinds", list(KINDS)), "kinds", KINDS, "kind")
    if not kinds:
        raise _refuse("kinds", "kinds must name at least one kind")
    item_types = given.get("item_types", [])
    if not isinstance(item_types, list) or not all(
        isinstance(t, str) and 0 < len(t) <= 40 for t in item_types
    ):
        raise _refuse("item_types", "item_types must be a list of item type keys")
    group_by = _names(given.get("group_by", []), "group_by", GROUPS, "group field")
    if len(group_by) > MAX_GROUPS:
        raise _refuse("group_by", f"group_by takes at most {MAX_GROUPS} fields")
    columns = _names(given.get("columns", list(DEFAULT_COLUMNS)), "columns", COLUMNS, "column")
    if not columns:
        raise _refuse("columns", "columns must name at least one column")
    sort = given.get("sort", "-number")
    if not isinstance(sort, str) or sort.lstrip("-") not in SORTS or sort.count("-") > 1:
        raise _refuse("sort", f"sort must be one of {', '.join(SORTS)}, each with an optional '-'")
    layout = given.get("layout", "flat")
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise _refuse("layout", f"layout must be one of {', '.join(LAYOUTS)}")
    counted = [0]
    found = given.get("filter")
    return {
        "kinds": kinds,
        "item_types": list(dict.fromkeys(item_types)),
        "filter": None if found is None else _checked_filter(found, "filter", 1, counted),
        "group_by": group_by,
        "columns": columns,
        "sort": sort,
        "layout": layout,
    }


def _checked_filter(given: Any, path: str, depth: int, counted: list[int]) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise _refuse(path, "a filter is an object: {'and': [...]}, {'or': [...]} or a condition")
    if depth > MAX_DEPTH:
        raise _refuse(path, f"filters nest at most {MAX_DEPTH} deep")
    joins = [k for k in ("and", "or") if k in given]
    if joins:
        if len(given) != 1:
            raise _refuse(path, "an 'and' or 'or' filter holds nothing else")
        join = joins[0]
        parts = given[join]
        if not isinstance(parts, list) or not parts:
            raise _refuse(f"{path}.{join}", f"'{join}' takes a non-empty list of filters")
        return {
            join: [
                _checked_filter(part, f"{path}.{join}[{i}]", depth + 1, counted)
                for i, part in enumerate(parts)
            ]
        }
    counted[0] += 1
    if counted[0] > MAX_CONDITIONS:
        raise _refuse(path, f"a filter holds at most {MAX_CONDITIONS} conditions")
    return checked_condition(given, path)


def checked_condition(given: dict[str, Any], path: str) -> dict[str, Any]:
    """One condition `{field, op, value}` in normal form."""
    unknown = set(given) - {"field", "op", "value"}
    if unknown:
        raise _refuse(path, f"a condition holds field, op and value; not {sorted(unknown)[0]!r}")
    field = given.get("field")
    if not isinstance(field, str) or field not in FIELDS:
        raise _refuse(f"{path}.field", f"no field {field!r}; known: {', '.join(FIELDS)}")
    kind = FIELDS[field]
    ops = PRIORITY_OPERATORS if field == "priority" else OPERATORS[kind]
    if field in OPTIONAL:
        ops = (*ops, "empty")
    op = given.get("op")
    if not isinstance(op, str) or op not in ops:
        raise _refuse(f"{path}.op", f"{field} takes the operators {', '.join(ops)}; not {op!r}")
    where = f"{path}.value"
    value = given.get("value")
    if op == "empty":
        if not isinstance(value, bool):
            raise _refuse(where, "'empty' takes true (no value) or false (any value)")
        return {"field": field, "op": op, "value": value}
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise _refuse(where, f"'{op}' takes a list of 1 to {MAX_LIST} values")
        values = [_checked_value(field, kind, v, where) for v in value]
        return {"field": field, "op": op, "value": list(dict.fromkeys(values))}
    return {"field": field, "op": op, "value": _checked_value(field, kind, value, where)}


def _checked_value(field: str, kind: str, value: Any, where: str) -> Any:
    if kind == NUMBER:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_NUMBER:
            raise _refuse(where, f"{field} takes a whole number from 0 to {MAX_NUMBER}")
        return value
    if kind == MOMENT:
        return moment_text(value, where)
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise _refuse(where, f"{field} takes a text of 1 to {MAX_TEXT} characters")
    if kind == CHOICE and value not in CHOICES[field]:
        raise _refuse(where, f"{field} is one of {', '.join(CHOICES[field])}; not {value!r}")
    if kind == ID:
        if field == "assignee" and value == ME:
            return ME
        try:
            return str(uuid.UUID(value))
        except ValueError:
            mine = " or 'me'" if field == "assignee" else ""
            raise _refuse(where, f"{field} takes an id{mine}; not {value!r}") from None
    return value


def moment_text(value: Any, where: str) -> str:
    """A moment (an ISO date: its start in UTC; or an ISO date-time with its offset) as the
    views store moments."""
    if not isinstance(value, str):
        raise _refuse(where, "a moment is an ISO date or date-time")
    try:
        if ISO_DATE.match(value):
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _refuse(where, f"not an ISO date or date-time: {value!r}") from None
    if moment.tzinfo is None:
        raise _refuse(where, f"a date-time needs its offset (e.g. Z): {value!r}")
    try:
        text = utc_text(moment)
    except OverflowError:
        raise _refuse(where, f"out of range once in UTC: {value!r}") from None
    if not moment.astimezone(UTC).year >= MIN_YEAR:
        raise _refuse(where, f"a moment from the year {MIN_YEAR} on: {value!r}")
    return text
