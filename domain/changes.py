"""What changed on an item: each event of a ticket or task read as the fields it changed,
each from its value before to its value after, what kind of change it was (created,
changed, moved, finished, reopened, converted) and what caused it (a user, a customer, an
automation rule, an email, an import, the system).

`fold` keeps an item's tracked fields as its events go by; `change_of` judges one event
against them. Both are pure: the `item_changes` view replays them in log order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The fields a change lists, in this order.
TRACKED = (
    "title",
    "description",
    "status",
    "state",
    "priority",
    "assignees",
    "team_id",
    "project_id",
    "folder_id",
    "start",
    "finish",
    "duration_days",
    "milestone",
    "work_hours",
    "points",
    "percent_complete",
    "actual_start",
    "actual_finish",
)
CAUSES = ("user", "customer", "automation", "email", "import", "system")
CREATED, CHANGED, MOVED, FINISHED, REOPENED, CONVERTED = (
    "created",
    "changed",
    "moved",
    "finished",
    "reopened",
    "converted",
)
CHANGE_KINDS = (CREATED, CHANGED, MOVED, FINISHED, REOPENED, CONVERTED)
Fields = dict[str, Any]


def cause_of(actor: str) -> str:
    """What caused an event, from its actor: `user:…` a user, `customer:…` and `visitor:…`
    a customer, `automation:…` a rule, `system:mail` an email, `import:…` an import, any
    other `system:…` the system."""
    kind, _, ident = actor.partition(":")
    if kind == "system" and ident == "mail":
        return "email"
    return {"user": "user", "customer": "customer", "visitor": "customer"}.get(
        kind, kind if kind in ("automation", "import") else "system"
    )


def _opened(e: Any, fields: Fields) -> Fields:
    carried = getattr(e, "carried", None) or {}
    opened = {
        "title": e.title,
        "description": e.description,
        "status": e.status,
        "state": e.state,
        "priority": e.priority,
        "assignees": sorted(carried.get("assignees", [])),
        "team_id": carried.get("team_id"),
        "project_id": e.project_id,
        "folder_id": e.folder_id,
    }
    if getattr(e, "TOPIC", "") == "ledgerdesk:Task.Planned":
        for name in ("start", "finish", "duration_days", "milestone", "work_hours", "points"):
            opened[name] = getattr(e, name)
        # What a new task starts with, though its event does not say it.
        opened |= {"percent_complete": 0, "actual_start": None, "actual_finish": None}
    return opened


def _assignees(added: bool) -> Callable[[Any, Fields], Fields]:
    def change(e: Any, fields: Fields) -> Fields:
        now = set(fields.get("assignees") or [])
        now = now | {e.user_id} if added else now - {e.user_id}
        return {"assignees": sorted(now)}

    return change


def _copy(*names: str) -> Callable[[Any, Fields], Fields]:
    return lambda e, fields: {name: getattr(e, name) for name in names}


CHANGES: dict[str, Callable[[Any, Fields], Fields]] = {
    "Ticket.Opened": _opened,
    "Task.Planned": _opened,
    "Ticket.Retitled": _copy("title"),
    "Ticket.DescriptionEdited": _copy("description"),
    "Ticket.Reprioritised": _copy("priority"),
    "Ticket.StatusChanged": _copy("status", "state"),
    "Ticket.Moved": _copy("project_id", "folder_id"),
    "Ticket.TeamAssigned": _copy("team_id"),
    "Ticket.TeamUnassigned": lambda e, fields: {"team_id": None},
    "Ticket.UserAssigned": _assignees(True),
    "Ticket.UserUnassigned": _assignees(False),
    "Task.Scheduled": _copy("start", "finish", "duration_days"),
    "Task.MilestoneSet": _copy("milestone"),
    "Task.WorkEstimated": _copy("work_hours"),
    "Task.PointsEstimated": _copy("points"),
    "Task.ProgressSet": _copy("percent_complete"),
    "Task.ActualsRecorded": _copy("actual_start", "actual_finish"),
    "Ticket.ConvertedToTask": lambda e, fields: {},
}
TOPICS = frozenset(f"ledgerdesk:{name}" for name in CHANGES)


def change_of(name: str, event: Any, before: Fields) -> tuple[str | None, list[Fields], Fields]:
    """What the event `name` (`Ticket.Retitled`; one of `CHANGES`) changed on an item whose
    tracked fields were `before` (for a task converted from a ticket, the ticket's): the
    kind of change (None: nothing to list), each field changed `{field, before, after}` (in
    `TRACKED` order), and the fields after it."""
    new = CHANGES[name](event, before)
    after = {**before, **new}
    fields = [
        {"field": f, "before": before.get(f), "after": after.get(f)}
        for f in TRACKED
        if f in new and before.get(f) != after.get(f)
    ]
    if name in ("Ticket.Opened", "Task.Planned"):
        source = getattr(event, "converted_from", None)
        if source is None:
            return CREATED, fields, after
        # A ticket became this task (`before`: the ticket's fields): what changed with it.
        became = [
            {"field": "number", "before": source, "after": event.number},
            {"field": "kind", "before": "ticket", "after": "task"},
        ]
        return CONVERTED, became + fields, after
    if name == "Ticket.ConvertedToTask":
        return None, [], after  # (Listed with the task it became: its `Task.Planned`.)
    return (_kind(before, after) if fields else None), fields, after


def _kind(before: Fields, after: Fields) -> str:
    if before.get("state") != after.get("state"):
        if after.get("state") == "finished":
            return FINISHED
        if before.get("state") == "finished":
            return REOPENED
    if (before.get("project_id"), before.get("folder_id")) != (
        after.get("project_id"),
        after.get("folder_id"),
    ):
        return MOVED
    return CHANGED
