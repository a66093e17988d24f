"""What automation rules see of an item's history: its fields as conditions read them, what
each of its events did as triggers see it (`step`), and when a time-based trigger's time
comes (`due_at`). Pure functions of the item's events, so a rule is judged the same
whenever, and by whichever worker, it runs."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from domain.workflow.rules import Happened

Fields = dict[str, Any]


def _kind(event: Any) -> str:
    return type(event).__name__


# Who moves the items of a renamed or retired status: the same status to people, no change
# to rules (no trigger fires, no clock restarts).
STATUS_MOVER = "system:workflow"


def step(
    fields: Fields | None, event: Any, automatic: Collection[str] = ()
) -> tuple[Fields, list[Happened]]:
    """The item's fields after `event` (from those before it; None before its first), and
    what the event did, as triggers see it. `organisation` and `sla_state` are not in an
    item's own events: whoever runs the rules adds them. A message in `automatic` came by
    mail a program sent: no reply (`automatic_messages`)."""
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

    if kind == "StatusChanged" and str(getattr(event, "actor", "")) == STATUS_MOVER:
        after["status"], after["state"] = event.status, event.state
    elif kind == "StatusChanged":
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
    elif kind == "CustomerReplyPosted" and event.message_id in automatic:
        pass  # An out-of-office, another help desk's receipt: no reply.
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


def automatic_messages(events: Sequence[Any]) -> frozenset[str]:
    """The ids of the messages among `events` that came by mail a program sent (the
    `MailReceived` saved with each says so)."""
    return frozenset(
        e.message_id for e in events if _kind(e) == "MailReceived" and getattr(e, "automatic", None)
    )


def fields_at(events: Sequence[Any]) -> Fields | None:
    """The item's fields after `events` (its stream, oldest first)."""
    fields = None
    for event in events:
        fields, _ = step(fields, event)
    return fields


def clock_start(trigger: dict[str, Any], events: Sequence[Any]) -> Any | None:
    """The event a `time_elapsed` trigger's clock runs from, for the item whose stream is
    `events`: the last event `since` names, unless what `without` names happened after it
    (None: it never happened, or it did and was answered)."""
    since, without = trigger["since"], trigger.get("without")
    start: Any | None = None
    spoiled = False
    fields: Fields | None = None
    automatic = automatic_messages(events)
    for event in events:
        fields, happened = step(fields, event, automatic)
        marks = marks_of(happened)
        if since in marks:
            start, spoiled = event, False
        elif start is not None and without is not None and without in marks:
            spoiled = True
    return None if spoiled else start


def due_at(trigger: dict[str, Any], events: Sequence[Any]) -> datetime | None:
    """When a `time_elapsed` trigger's time comes for the item whose stream is `events`:
    `hours` after its clock's start (`clock_start`; None: no clock runs)."""
    start = clock_start(trigger, events)
    if start is None:
        return None
    return start.timestamp + timedelta(hours=trigger["hours"])  # type: ignore[no-any-return]


def marks_of(happened: Sequence[Happened]) -> set[str]:
    """What `happened` means to a time-based trigger's `since` and `without`: `created`,
    `status_changed`, `customer_replied`, `staff_replied`, and `any_change` for anything."""
    kinds = {h.kind for h in happened}
    marks = {k for k in kinds if k in ("customer_replied", "staff_replied")}
    if "item_created" in kinds:
        marks.add("created")
    if any(h.kind == "field_changed" and h.field == "status" for h in happened):
        marks.add("status_changed")
    if happened:
        marks.add("any_change")
    return marks


CLOCK_MARKS = ("created", "status_changed", "customer_replied", "staff_replied", "any_change")


def clock_marks(event: Any, automatic: Collection[str] = ()) -> set[str]:
    """`marks_of` what `event` did, judged from the event alone (what a view that keeps
    each item's latest marks sees): every recorded change is a change, since the items
    record none that changes nothing. A message in `automatic` is no reply."""
    kind = _kind(event)
    actor = str(getattr(event, "actor", ""))
    if kind in ("Opened", "Planned"):
        return {"created", "any_change"}
    if kind == "StatusChanged":
        return {"status_changed", "any_change"} if actor != STATUS_MOVER else set()
    if kind == "CustomerReplyPosted" and event.message_id in automatic:
        return set()
    if kind == "CustomerReplyPosted":
        if actor.startswith("customer:"):
            return {"customer_replied", "any_change"}
        return {"staff_replied", "any_change"} if actor.startswith("user:") else set()
    if kind == "InternalMessagePosted":
        return {"any_change"} if actor.startswith("user:") else set()
    if kind in CHANGES:
        return {"any_change"}
    return set()


CHANGES = frozenset(
    {
        "Reprioritised",
        "Retitled",
        "Moved",
        "TeamAssigned",
        "TeamUnassigned",
        "UserAssigned",
        "UserUnassigned",
    }
)
