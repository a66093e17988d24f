"""Portal view: reads the customer-visible Ticket events and the Contact events that place
contacts in organisations; shows each ticket as a customer may see it (`portal_tickets`,
with its requester contact) and each contact's current organisation (`portal_contacts`).

The view is an allow-list: it subscribes only to events whose content a customer may
see, so internal messages (and assignees, teams, projects, priorities) never reach its
tables, and its `updated_at` never moves for staff-only activity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from domain.contact import Contact, contact_id_for
from domain.item_numbers import item_id
from domain.ticket import Ticket
from domain.values import Actor
from projections.base import (
    InvalidCursorError,
    Positioned,
    Projection,
    Tables,
    decode_cursor,
    dumps,
    encode_cursor,
    iso,
    loads,
    topic_name,
)
from projections.db import Tx, cached_rows

Doc = dict[str, Any]
TICKET_EVENTS: tuple[type, ...] = (
    Ticket.Opened,
    Ticket.Retitled,
    Ticket.DescriptionEdited,
    Ticket.StatusChanged,
    Ticket.CustomerReplyPosted,
    Ticket.AttachmentAdded,
)
CONTACT_EVENTS: tuple[type, ...] = (
    Contact.Registered,
    Contact.JoinedOrganisation,
    Contact.LeftOrganisation,
)
SUMMARY = "number, title, status, state, created_at, updated_at, requester_email"


def author(actor: str) -> dict[str, str | None]:
    """Who wrote something, as a customer may know it: a customer by email; anyone on
    the help desk's side (staff, automations, the system) only as `support`."""
    who = Actor.parse(actor)
    if who.kind == "customer":
        return {"kind": "customer", "email": who.ident}
    return {"kind": "support", "email": None}


def _opened(doc: Doc, e: Any) -> None:
    doc.update(
        number=e.number,
        title=e.title,
        description=e.description,
        status=e.status,
        state=e.state,
        requester_email=e.requester_email,
        messages=[],
        attachments=[],
        created_at=iso(e.timestamp),
    )


def _reply(doc: Doc, e: Any) -> None:
    doc["messages"].append(
        {
            "id": e.message_id,
            "author": author(e.actor),
            "body": e.body,
            "created_at": iso(e.timestamp),
            "in_reply_to": e.in_reply_to,
        }
    )


def _attachment(doc: Doc, e: Any) -> None:
    if e.visibility != "customer":
        return  # Staff attach internal material too: only customer files are shown.
    doc["attachments"].append(
        {
            "id": e.attachment_id,
            "name": e.name,
            "size": e.size,
            "media_type": e.media_type,
            "author": author(e.actor),
            "created_at": iso(e.timestamp),
        }
    )


FOLDS: dict[type, Callable[[Doc, Any], None]] = {
    Ticket.Opened: _opened,
    Ticket.Retitled: lambda doc, e: doc.update(title=e.title),
    Ticket.DescriptionEdited: lambda doc, e: doc.update(description=e.description),
    Ticket.StatusChanged: lambda doc, e: doc.update(status=e.status, state=e.state),
    Ticket.CustomerReplyPosted: _reply,
    Ticket.AttachmentAdded: _attachment,
}


def customer_document(events: Iterable[Any], doc: Doc | None = None) -> Doc | None:
    """A ticket as its customer sees it, from its events (None if there are none), or
    from `doc` (changed in place) with its next events applied."""
    doc = {} if doc is None else doc
    for event in events:
        _evolve(doc, event)
    return doc or None


def _evolve(doc: Doc, event: Any) -> None:
    fold = FOLDS.get(type(event))
    if fold is not None:
        fold(doc, event)
        doc["updated_at"] = iso(event.timestamp)


class PortalProjection(Projection):
    """Reads customer-visible Ticket events and Contact organisation events; shows
    `portal_tickets` (one customer-safe document per ticket, by requester contact) and
    `portal_contacts` (each contact's current organisation)."""

    name = "portal"
    indexes_after_build = True  # (apply reads by primary key only)
    tables = ("portal_tickets", "portal_contacts", "portal_conversions")
    topics = frozenset(str(getattr(e, "TOPIC")) for e in TICKET_EVENTS + CONTACT_EVENTS) | {  # noqa: B009
        "ledgerdesk:Task.Planned"
    }
    # 2: a converted ticket follows its task (`portal_conversions`); 3: titles are also kept
    # case-folded as Python folds them (`title_folded`), which SQLite's LOWER does not.
    schema_version = 3

    def create(self, tx: Tx, t: Tables) -> None:
        tickets, contacts = t["portal_tickets"], t["portal_contacts"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {tickets} ("
            " id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE,"
            " requester_contact_id TEXT, requester_email TEXT, title TEXT NOT NULL,"
            " title_folded TEXT NOT NULL, status TEXT NOT NULL, state TEXT NOT NULL,"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL, doc TEXT NOT NULL)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {tickets}_requester"
            f" ON {tickets} (requester_contact_id, number)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {contacts} ("
            " contact_id TEXT PRIMARY KEY, organisation_id TEXT)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['portal_conversions']} ("
            " task_id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {contacts}_organisation"
            f" ON {contacts} (organisation_id, contact_id)"
        )

    def key_columns(self, base: str) -> str:
        return {"portal_tickets": "id", "portal_conversions": "task_id"}.get(base, "contact_id")

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        tickets = [p.event for p in events if isinstance(p.event, TICKET_EVENTS)]
        for p in events:
            if isinstance(p.event, CONTACT_EVENTS):
                _place_contact(tx, t["portal_contacts"], p.event)
            elif topic_name(p.event) == "Task.Planned" and p.event.converted_from is not None:
                # The customer's request lives on as this task: its customer-visible events
                # keep changing the ticket's document (still under the ticket's number).
                task, ticket = str(p.event.originator_id), str(item_id(p.event.converted_from))
                tx.execute(
                    f"INSERT INTO {t['portal_conversions']} (task_id, ticket_id) VALUES (?, ?)",
                    (task, ticket),
                )
                if (cache := tx.row_cache(t["portal_conversions"])) is not None:
                    cache.keep({task: ticket})
        if tickets:
            _apply_tickets(tx, t, tickets)


def _place_contact(tx: Tx, table: str, e: Any) -> None:
    organisation_id = None if isinstance(e, Contact.LeftOrganisation) else e.organisation_id
    tx.execute(
        f"INSERT INTO {table} (contact_id, organisation_id) VALUES (?, ?)"
        " ON CONFLICT (contact_id) DO UPDATE SET organisation_id = excluded.organisation_id",
        (str(e.originator_id), organisation_id),
    )


def _apply_tickets(tx: Tx, t: Tables, events: list[Any]) -> None:
    table = t["portal_tickets"]
    # Tickets opened in this page (a task is never in the conversions before it is planned).
    opened = {str(e.originator_id) for e in events if isinstance(e, Ticket.Opened)}
    follows: dict[str, str] = cached_rows(
        tx,
        t["portal_conversions"],
        {str(e.originator_id) for e in events},
        lambda keys: _conversions(tx, t, keys),
        opened,
    )
    ids = {follows.get(str(e.originator_id), str(e.originator_id)) for e in events}
    # The page's documents, read in one statement per 500 (while rebuilding, only those the
    # rebuild does not hold in memory).
    docs: dict[str, Doc] = cached_rows(tx, table, ids, lambda keys: _read(tx, table, keys), opened)
    stored = set(docs)
    for e in events:
        doc = docs.setdefault(follows.get(str(e.originator_id), str(e.originator_id)), {})
        # Tasks record the shared item events too; only tickets (and the tasks they became)
        # have a customer document.
        if doc or isinstance(e, Ticket.Opened):
            _evolve(doc, e)
    written = {i: d for i, d in sorted(docs.items()) if d}
    for i, d in written.items():
        if i not in stored:  # New: while rebuilding, a row of a COPY.
            tx.insert_row(table, dict(zip(TICKET_COLUMNS, _row(i, d), strict=True)))
    tx.executemany(
        f"INSERT INTO {table} ({', '.join(TICKET_COLUMNS)})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
        " title_folded = excluded.title_folded, status = excluded.status,"
        " state = excluded.state, updated_at = excluded.updated_at, doc = excluded.doc",
        [_row(i, d) for i, d in written.items() if i in stored],
    )
    if (cache := tx.row_cache(table)) is not None:
        cache.keep(written)


TICKET_COLUMNS = (
    "id",
    "number",
    "requester_contact_id",
    "requester_email",
    "title",
    "title_folded",
    "status",
    "state",
    "created_at",
    "updated_at",
    "doc",
)


def _read(tx: Tx, table: str, ids: list[str]) -> dict[str, Doc]:
    docs: dict[str, Doc] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in tx.all(f"SELECT id, doc FROM {table} WHERE id IN ({marks})", chunk):
            docs[row["id"]] = loads(row["doc"])
    return docs


def _conversions(tx: Tx, t: Tables, ids: list[str]) -> dict[str, str]:
    """task id -> the id of the ticket it was converted from, for tasks among `ids`."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = tx.all(
            f"SELECT task_id, ticket_id FROM {t['portal_conversions']} WHERE task_id IN ({marks})",
            chunk,
        )
        found.update((row["task_id"], row["ticket_id"]) for row in rows)
    return found


def _row(ticket_id: str, doc: Doc) -> tuple[Any, ...]:
    email = doc["requester_email"]
    requester = str(contact_id_for(email)) if email else None
    return (
        ticket_id,
        doc["number"],
        requester,
        email,
        doc["title"],
        doc["title"].casefold(),
        doc["status"],
        doc["state"],
        doc["created_at"],
        doc["updated_at"],
        dumps(doc),
    )


# --- queries: always scoped to what one contact may see ----------------------------------


def _scope(t: Tables, contact_id: str, organisation_id: str | None) -> tuple[str, list[Any]]:
    """Tickets the contact asked for, and, when they see their organisation's items,
    tickets whose requester is in that organisation now."""
    if organisation_id is None:
        return "p.requester_contact_id = ?", [contact_id]
    colleagues = f"SELECT contact_id FROM {t['portal_contacts']} WHERE organisation_id = ?"
    return (
        f"(p.requester_contact_id = ? OR p.requester_contact_id IN ({colleagues}))",
        [contact_id, organisation_id],
    )


def list_portal_tickets(
    tx: Tx,
    t: Tables,
    contact_id: str,
    organisation_id: str | None,
    cursor: str | None,
    limit: int,
    *,
    show: str = "all",
    q: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The tickets a contact may see, newest number first, a page at a time
    (`organisation_id`: the organisation whose items they see, None for own only); `show`
    `open` or `finished` keeps those in or out of a finished state, and `q` the tickets
    whose title or number holds it."""
    where, params = _scope(t, contact_id, organisation_id)
    if show in ("open", "finished"):
        where += " AND p.state " + ("=" if show == "finished" else "<>") + " ?"
        params.append("finished")
    if q and q.strip():
        needle = q.strip().casefold().lstrip("#")
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where += " AND (p.title_folded LIKE ? ESCAPE '\\' OR CAST(p.number AS TEXT) = ?)"
        params += [f"%{escaped}%", needle]
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, int):
            raise InvalidCursorError("cursor is not valid")
        where += " AND p.number < ?"
        params.append(last)
    rows = tx.all(
        f"SELECT {SUMMARY} FROM {t['portal_tickets']} p WHERE {where}"
        " ORDER BY p.number DESC LIMIT ?",
        (*params, limit + 1),
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["number"])
    return rows, next_cursor


def get_portal_ticket(
    tx: Tx, t: Tables, contact_id: str, organisation_id: str | None, number: int
) -> Doc | None:
    """Ticket `number` as a customer sees it; None if it does not exist or they may not
    see it (the two are never told apart)."""
    where, params = _scope(t, contact_id, organisation_id)
    row = tx.one(
        f"SELECT doc FROM {t['portal_tickets']} p WHERE p.number = ? AND {where}",
        (number, *params),
    )
    return loads(row["doc"]) if row else None
