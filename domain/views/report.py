"""A saved report's definition: a report template and how to run it — grouped by what, per
which period, over which days, for which project — kept in one normal form.

A saved report is saved and shared like a view (`domain.views.saved_view`, kind `report`).
The templates themselves (what each counts) are on the read side
(`projections/reports/templates/`); this module names them and what each may be grouped
by, so that a definition is checked where it is recorded."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from domain.errors import InvalidValueError
from domain.views.custom_report import checked_custom

# Each template, and what it may be grouped by (in the order offered).
TEMPLATE_GROUPS: dict[str, tuple[str, ...]] = {
    "tickets": ("customer", "project", "priority", "channel", "item_type"),
    "response-times": ("priority", "policy", "project"),
    "task-progress": ("project",),
    "user-activity": (),
    "custom": (),  # a data set's dimensions instead (`domain.views.custom_report`)
}
PERIODS = ("day", "week", "month")
MAX_DAYS = 3 * 366  # the longest range a report covers
DEFAULT_RANGE = {"last_days": 30}
DEFAULT_DAYS = DEFAULT_RANGE["last_days"]


def _refuse(path: str, message: str) -> InvalidValueError:
    return InvalidValueError(f"definition.{path}", message)


def _checked_range(given: Any) -> dict[str, Any]:
    """`{"last_days": n}` (the n days to today) or `{"previous": "week" | "month"}` (the
    last whole one before today's)."""
    if given is None:
        return dict(DEFAULT_RANGE)
    if not isinstance(given, dict) or len(given) != 1:
        raise _refuse("range", "range is {last_days: n} or {previous: week | month}")
    if "last_days" in given:
        days = given["last_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise _refuse("range.last_days", f"last_days is a whole number from 1 to {MAX_DAYS}")
        return {"last_days": days}
    if given.get("previous") in ("week", "month"):
        return {"previous": given["previous"]}
    raise _refuse("range", "range is {last_days: n} or {previous: week | month}")


def checked_report(given: Any) -> dict[str, Any]:
    """A saved report's definition in normal form: `template`, `group_by` (or null),
    `period`, `range` and `project_id` (or null: every project the reader sees); a custom
    report's also `custom` (`domain.views.custom_report`)."""
    if not isinstance(given, dict):
        raise InvalidValueError("definition", "a report's definition is an object")
    unknown = set(given) - {"template", "group_by", "period", "range", "project_id", "custom"}
    if unknown:
        raise _refuse(sorted(unknown)[0], f"a report takes no {sorted(unknown)[0]!r}")
    template = given.get("template")
    if not isinstance(template, str) or template not in TEMPLATE_GROUPS:
        raise _refuse("template", f"template is one of {', '.join(TEMPLATE_GROUPS)}")
    group_by = given.get("group_by")
    if group_by is not None and (
        not isinstance(group_by, str) or group_by not in TEMPLATE_GROUPS[template]
    ):
        choices = ", ".join(TEMPLATE_GROUPS[template]) or "nothing"
        raise _refuse("group_by", f"{template} can be grouped by {choices}")
    period = given.get("period", "week")
    if not isinstance(period, str) or period not in PERIODS:
        raise _refuse("period", f"period is one of {', '.join(PERIODS)}")
    project = given.get("project_id")
    if project is not None:
        try:
            project = str(uuid.UUID(str(project)))
        except ValueError:
            raise _refuse("project_id", "project_id is a project's id") from None
    checked = {
        "template": template,
        "group_by": group_by,
        "period": period,
        "range": _checked_range(given.get("range")),
        "project_id": project,
    }
    if template == "custom":
        return {**checked, "custom": checked_custom(given.get("custom"))}
    if "custom" in given:
        raise _refuse("custom", "only a custom report takes custom")
    return checked


def days_of(definition: dict[str, Any], today: date) -> tuple[date, date]:
    """The days a saved report covers when run on `today` (both inclusive)."""
    span = definition["range"]
    if "last_days" in span:
        return today - timedelta(days=span["last_days"] - 1), today
    if span["previous"] == "week":
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def days_asked(
    first: date | None, last: date | None, definition: dict[str, Any], today: date
) -> tuple[date, date]:
    """The days a run covers: `first` and `last` when given; else a saved report's range
    (ending on `last` when only that is given); else the `DEFAULT_DAYS` to `last` (or to
    today, or to `first` when that is later)."""
    if first is None and definition:
        saved_first, saved_last = days_of(definition, last or today)
        first, last = saved_first, last or saved_last
    last = last or max(today, first or today)
    return first or last - timedelta(days=DEFAULT_DAYS - 1), last
