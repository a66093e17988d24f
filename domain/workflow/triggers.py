"""What automation rules see of an item's history: its fields as conditions read them, what
each of its events did as triggers see it (`step`), and when a time-based trigger's time
comes (`due_at`). Pure functions of the item's events, so a rule is judged the same
whenever, and by whichever worker, it runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from domain.workflow.rules import Happened

Fields = dict[str, Any]


def _kind(event: Any) -> str:
    return type(event).__name__


def step(fields: Fields | None, event: Any) -> tuple[Fields, list[Happened]]:
    """The item's fields after `event` (from those before it; None before its first), and
    what the event did, as triggers see it. `organisation` and `sla_state` are not in an
    item's own events: whoever runs the rules adds them."""
    kind = _kind(event)
    if fields is None or kind in ("Opened", "Planned"):
        carried = getattr(event, "carried", None) or {}  # a task converted from a ticket
        opened: Fields = {
            "project": event.project_id,
            "organisation": None,
            "requester": getattr(event, "requester_email", None),
            "channel": getattr(event, "channel", None),
            "priority": event.priority,
            "status": event.status,
            "state": event.state,
            "item_type": getattr(event, "item_type", "task" if kind == "Planned" else "ticket"),
            "assignee": list(carried.get("assignees", [])),
            "team": carried.get("team_id"),
            "folder": event.folder_id,
            "title": event.title,
            "text": f"{event.title}\n{event.description}",
            "sla_state": None,
        }
        return opened, [Happened("item_created")]
    after = {**fields, "assignee": list(fields["assignee"])}
    happened: list[Happened] = []

    def changed(field: str, new: Any) -> None:
        old = after.get(field)
        if old != new:
            after[field] = new
            happened.append(Happened("field_changed", field, _text(old), _text(new)))

    if kind == "StatusChanged":
        changed("status", event.status)
        changed("state", event.state)
    elif kind == "Reprioritised":
        changed("priority", event.priority)
    elif kind == "Retitled":
        changed("title", event.title)
        after["text"] = f"{event.title}\n{fields['text'].split(chr(10), 1)[-1]}"
    elif kind == "DescriptionEdited":
        after["text"] = f"{fields['title']}\n{event.description}"
    elif kind == "Moved":
        changed("project", event.project_id)
        changed("folder", event.folder_id)
    elif kind == "TeamAssigned":
        changed("team", event.team_id)
    elif kind == "TeamUnassigned":
        changed("team", None)
    elif kind in ("UserAssigned", "UserUnassigned"):
        added = kind == "UserAssigned"
        if added and event.user_id not in after["assignee"]:
            after["assignee"].append(event.user_id)
        elif not added and event.user_id in after["assignee"]:
            after["assignee"].remove(event.user_id)
        else:
            return after, []
        who = event.user_id
        happened.append(
            Happened("field_changed", "assignee", None if added else who, who if added else None)
        )
    elif kind == "CustomerReplyPosted":
        if event.actor.startswith("customer:"):
            happened.append(Happened("customer_replied"))
        elif event.actor.startswith("user:"):
            happened.append(Happened("staff_replied"))
    elif kind == "InternalMessagePosted" and event.actor.startswith("user:"):
        happened.append(Happened("internal_message"))
    return after, happened


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def fields_at(events: Sequence[Any]) -> Fields | None:
    """The item's fields after `events` (its stream, oldest first)."""
    fields = None
    for event in events:
        fields, _ = step(fields, event)
    return fields


def due_at(trigger: dict[str, Any], events: Sequence[Any]) -> datetime | None:
    """When a `time_elapsed` trigger's time comes for the item whose stream is `events`:
    `hours` after the last event `since` names, unless what `without` names happened after
    it (None: it never happened, or it did and was answered)."""
    since, without = trigger["since"], trigger.get("without")
    start: datetime | None = None
    spoiled = False
    fields: Fields | None = None
    for event in events:
        fields, happened = step(fields, event)
        kinds = {h.kind for h in happened}
        fields_changed = {h.field for h in happened if h.kind == "field_changed"}
        starts = (
            (since == "created" and "item_created" in kinds)
            or (since == "status_changed" and "status" in fields_changed)
            or (since in kinds)
        )
        if starts:
            start, spoiled = event.timestamp, False
        elif start is not None and without is not None and happened:
            spoiled = spoiled or (
                without == "any_change"
                or (without == "status_changed" and "status" in fields_changed)
                or without in kinds
            )
    if start is None or spoiled:
        return None
    return start + timedelta(hours=trigger["hours"])
