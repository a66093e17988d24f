"""Ticket detail view: reads every Ticket event; shows one ticket with its people,
conversation and attachments, as a JSON document per ticket.

The same fold (`evolve`) rebuilds a ticket as of any past moment from its events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from domain.ticket import CUSTOMER, INTERNAL, Ticket
from projections.base import Positioned, Projection, Tables, dumps, iso, loads, topics_of
from projections.db import Tx

Doc = dict[str, Any]


def _opened(doc: Doc, e: Any) -> None:
    doc.update(
        id=str(e.originator_id),
        kind="ticket",
        number=e.number,
        title=e.title,
        description=e.description,
        status=e.status,
        state=e.state,
        priority=e.priority,
        requester_email=e.requester_email,
        channel=e.channel,
        project_id=e.project_id,
        folder_id=e.folder_id,
        team_id=None,
        assignees=[],
        followers=[],
        messages=[],
        attachments=[],
        created_at=iso(e.timestamp),
        created_by=e.actor,
    )


def _set(field: str) -> Callable[[Doc, Any], None]:
    def apply(doc: Doc, e: Any) -> None:
        doc[field] = getattr(e, field)

    return apply


def _moved(doc: Doc, e: Any) -> None:
    doc.update(project_id=e.project_id, folder_id=e.folder_id)


def _status_changed(doc: Doc, e: Any) -> None:
    doc.update(status=e.status, state=e.state)


def _add_to(field: str) -> Callable[[Doc, Any], None]:
    def apply(doc: Doc, e: Any) -> None:
        doc[field] = sorted({*doc[field], e.user_id})

    return apply


def _remove_from(field: str) -> Callable[[Doc, Any], None]:
    def apply(doc: Doc, e: Any) -> None:
        doc[field] = [u for u in doc[field] if u != e.user_id]

    return apply


def _message(visibility: str) -> Callable[[Doc, Any], None]:
    def apply(doc: Doc, e: Any) -> None:
        doc["messages"].append(
            {
                "id": e.message_id,
                "visibility": visibility,
                "author": e.actor,
                "body": e.body,
                "created_at": iso(e.timestamp),
                "in_reply_to": e.in_reply_to,
            }
        )

    return apply


def _attachment_added(doc: Doc, e: Any) -> None:
    doc["attachments"].append(
        {
            "id": e.attachment_id,
            "name": e.name,
            "size": e.size,
            "media_type": e.media_type,
            "visibility": e.visibility,
            "sha256": e.sha256,
            "author": e.actor,
            "created_at": iso(e.timestamp),
        }
    )


FOLDS: dict[type, Callable[[Doc, Any], None]] = {
    Ticket.Opened: _opened,
    Ticket.Retitled: _set("title"),
    Ticket.DescriptionEdited: _set("description"),
    Ticket.Reprioritised: _set("priority"),
    Ticket.StatusChanged: _status_changed,
    Ticket.UserAssigned: _add_to("assignees"),
    Ticket.UserUnassigned: _remove_from("assignees"),
    Ticket.FollowerAdded: _add_to("followers"),
    Ticket.FollowerRemoved: _remove_from("followers"),
    Ticket.CustomerReplyPosted: _message(CUSTOMER),
    Ticket.InternalMessagePosted: _message(INTERNAL),
    Ticket.AttachmentAdded: _attachment_added,
    Ticket.Moved: _moved,
    Ticket.TeamAssigned: _set("team_id"),
    Ticket.TeamUnassigned: lambda doc, e: doc.update(team_id=None),
}


def evolve(doc: Doc, event: Any) -> Doc:
    """Apply one ticket event to its document (in place) and return it."""
    fold = FOLDS.get(type(event))
    if fold is not None:
        fold(doc, event)
        doc["version"] = event.originator_version
        doc["updated_at"] = iso(event.timestamp)
    return doc


def fold(events: Iterable[Any]) -> Doc | None:
    """A ticket's document from its events (None if there are none)."""
    doc: Doc = {}
    for event in events:
        evolve(doc, event)
    return doc or None


class TicketDetailProjection(Projection):
    """Reads Ticket events; shows one ticket whole (`ticket_detail_tickets`)."""

    name = "ticket_detail"
    tables = ("ticket_detail_tickets",)
    topics = topics_of(Ticket)
    schema_version = 2  # 2: project_id, folder_id, team_id in the document

    def create(self, tx: Tx, t: Tables) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['ticket_detail_tickets']} ("
            " id TEXT PRIMARY KEY,"
            " number INTEGER NOT NULL UNIQUE,"
            " version INTEGER NOT NULL,"
            " doc TEXT NOT NULL)"
        )

    def key_columns(self, base: str) -> str:
        return "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        table = t["ticket_detail_tickets"]
        ids = sorted({str(p.event.originator_id) for p in events})
        docs: dict[str, Doc] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for row in tx.all(f"SELECT id, doc FROM {table} WHERE id IN ({marks})", chunk):
                docs[row["id"]] = loads(row["doc"])
        for p in events:
            evolve(docs.setdefault(str(p.event.originator_id), {}), p.event)
        tx.executemany(
            f"INSERT INTO {table} (id, number, version, doc) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc",
            [(i, d["number"], d["version"], dumps(d)) for i, d in sorted(docs.items()) if d],
        )


def get_ticket(tx: Tx, t: Tables, number: int) -> Doc | None:
    row = tx.one(f"SELECT doc FROM {t['ticket_detail_tickets']} WHERE number = ?", (number,))
    return loads(row["doc"]) if row else None


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
