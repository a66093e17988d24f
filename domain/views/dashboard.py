"""A dashboard's definition: its widgets, each a chart of one measure of the desk and the
plan, kept in one normal form (every setting a widget type takes, with its default).

A dashboard is saved and shared like a view (`domain.views.saved_view`, kind `dashboard`);
this module only says what a dashboard holds. What each widget shows is computed on the
read side (`projections/reports/dashboard/`)."""

from __future__ import annotations

import uuid
from typing import Any

from domain.errors import InvalidValueError

KINDS = ("ticket", "task")
COUNT_BY = ("state", "status", "priority")
MAX_WIDGETS = 24
MAX_WEEKS = 52
MAX_TITLE = 120

# Each widget type: what it shows, and the settings it takes beyond `type` and `title`.
WIDGETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "counts": ("Items by {by}", ("by", "kinds", "project_id")),
    "created_vs_finished": ("Created and finished per week", ("weeks", "kinds", "project_id")),
    "response_times": ("First response and resolution times", ("weeks", "project_id")),
    "sla_compliance": ("SLA compliance per week", ("weeks",)),
    "workload": ("Open items per assignee", ("kinds", "project_id")),
    "time_logged": ("Time logged per user per week", ("weeks", "project_id")),
    "overdue_tasks": ("Overdue tasks", ("project_id",)),
    "burn_down": ("Burn-down by points", ("project_id",)),
}
DEFAULT_WEEKS = {"created_vs_finished": 8, "response_times": 8, "sla_compliance": 8}
REQUIRED = {"counts": ("by",), "burn_down": ("project_id",)}


def _refuse(path: str, message: str) -> InvalidValueError:
    return InvalidValueError(f"definition.{path}", message)


def _setting(kind: str, name: str, given: Any, path: str) -> Any:
    """One widget setting, checked; None when not given (its default)."""
    value = given.get(name)
    where = f"{path}.{name}"
    if name == "by":
        if not isinstance(value, str) or value not in COUNT_BY:
            raise _refuse(where, f"by is one of {', '.join(COUNT_BY)}")
        return value
    if name == "kinds":
        if value is None:
            return list(KINDS)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(k, str) and k in KINDS for k in value)
        ):
            raise _refuse(where, "kinds is a non-empty list of ticket, task")
        return [k for k in KINDS if k in value]
    if name == "weeks":
        if value is None:
            return DEFAULT_WEEKS.get(kind, 4)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WEEKS:
            raise _refuse(where, f"weeks is a whole number from 1 to {MAX_WEEKS}")
        return value
    # project_id
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise _refuse(where, "project_id is a project's id") from None


def checked_widget(given: Any, path: str) -> dict[str, Any]:
    """A widget in normal form: `type`, `title`, then each of its type's settings."""
    if not isinstance(given, dict):
        raise _refuse(path, "a widget is an object with a type")
    kind = given.get("type")
    if not isinstance(kind, str) or kind not in WIDGETS:
        raise _refuse(f"{path}.type", f"type is one of {', '.join(WIDGETS)}")
    title_format, settings = WIDGETS[kind]
    unknown = set(given) - {"type", "title", *settings}
    if unknown:
        name = sorted(unknown)[0]
        raise _refuse(f"{path}.{name}", f"a {kind} widget takes no {name!r}")
    for name in REQUIRED.get(kind, ()):
        if given.get(name) is None:
            raise _refuse(f"{path}.{name}", f"a {kind} widget needs {name}")
    widget: dict[str, Any] = {"type": kind}
    for name in settings:
        widget[name] = _setting(kind, name, given, path)
    title = given.get("title")
    if title is None:
        title = title_format.format(**widget)
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise _refuse(f"{path}.title", f"title is a text of 1 to {MAX_TITLE} characters")
    return {"type": kind, "title": " ".join(title.split()), **widget}


def checked_dashboard(given: Any) -> dict[str, Any]:
    """A dashboard's definition in normal form: `{"widgets": [widget, ...]}`, in order."""
    if not isinstance(given, dict) or set(given) - {"widgets"}:
        raise InvalidValueError("definition", "a dashboard's definition is {widgets: [...]}")
    widgets = given.get("widgets", [])
    if not isinstance(widgets, list) or len(widgets) > MAX_WIDGETS:
        raise _refuse("widgets", f"widgets is a list of at most {MAX_WIDGETS} widgets")
    return {"widgets": [checked_widget(w, f"widgets[{i}]") for i, w in enumerate(widgets)]}
