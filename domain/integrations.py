"""The public events: the names integrations know ledgerdesk's history by, shared by the
event feed (`GET /api/v1/events`), webhooks, REST hooks and polling triggers.

Each is one domain event of the log seen from outside: its id is the event's log position,
so a consumer resumes exactly where it stopped and two deliveries of the same event carry
the same id. The log's own event names stay inside; these names do not change once
published (a new fact gets a new name)."""

from __future__ import annotations

from typing import Any

ITEM = {
    "number": 42,
    "kind": "ticket",
    "title": "Printer on fire",
    "project_id": "5b1f0b64-7a0e-4c4b-9a55-1f1b7f0e2a10",
}
# name -> (what it means, a sample of its `data`)
PUBLIC_EVENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "item.created": (
        "A ticket or task was opened (by staff, a customer, mail, a form, a chat, a recurrence"
        " or an import).",
        {
            "item": {
                **ITEM,
                "priority": "normal",
                "channel": "email",
                "requester_email": "ada@acme.example",
            }
        },
    ),
    "item.status_changed": (
        "An item moved to another status.",
        {"item": ITEM, "status": "Open", "state": "in_progress"},
    ),
    "item.customer_replied": (
        "A customer wrote on an item (the portal, mail, a chat turned into the item).",
        {
            "item": ITEM,
            "message": {"id": "0b8f3c52-6f7e-4a4e-8b8e-2c3f4d5e6f70", "body": "Still broken."},
        },
    ),
    "item.assigned": (
        "A staff user was assigned to an item.",
        {"item": ITEM, "user_id": "24a1c15f-1cf6-505a-b28b-fd35427b7822"},
    ),
    "item.converted": (
        "A ticket became a task (the task has a new number; the ticket's resolves to it).",
        {
            "item": ITEM,
            "task": {**ITEM, "number": 43, "kind": "task"},
        },
    ),
    "timesheet.approved": (
        "A time entry was approved.",
        {
            "entry": {
                "id": "9d7c1e52-1f2a-4b3c-8d4e-5f6a7b8c9d0e",
                "user_id": "24a1c15f-1cf6-505a-b28b-fd35427b7822",
                "item_number": 42,
                "project_id": ITEM["project_id"],
                "work_date": "2026-12-01",
                "minutes": 90,
                "billable": True,
            }
        },
    ),
    "chat.started": (
        "A customer opened a chat (`offline`: nobody was on duty, so it became a ticket).",
        {
            "chat": {
                "id": "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98",
                "name": "Ada",
                "email": "ada@acme.example",
                "source": "widget",
                "offline": False,
            }
        },
    ),
    "sla.breached": (
        "An item's service-level target fell due unanswered.",
        {"item": ITEM, "metrics": ["first_response"], "policy": "Standard"},
    ),
}
EVENT_NAMES: tuple[str, ...] = tuple(PUBLIC_EVENTS)


def sample(name: str, position: int = 1) -> dict[str, Any]:
    """The sample delivery of `name`, shaped as the feed, webhooks and triggers send it."""
    return {
        "id": str(position),
        "position": position,
        "type": name,
        "occurred_at": "2026-12-01T09:30:00.000000+00:00",
        "actor": "user:24a1c15f-1cf6-505a-b28b-fd35427b7822",
        "correlation_id": "5f0e9a4b-2c1d-4e3f-8a7b-6c5d4e3f2a1b",
        "causation_id": None,
        "data": PUBLIC_EVENTS[name][1],
    }
