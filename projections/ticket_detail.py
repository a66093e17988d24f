"""Item detail view (named `ticket_detail`, its first kind): reads every Ticket and Task
event; shows one item with its people, conversation and attachments (and a task's plan),
as a JSON document per item.

The same fold (`evolve`) rebuilds an item as of any past moment from its events. A task
converted from a ticket begins with the ticket's document: its conversation and
attachments carry over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from domain.item_numbers import item_id
from domain.logged_time import TimeImported
from domain.mail.on_items import MailBounced, MailNotSent, MailReceived
from domain.reading import MessagesRead
from domain.task import Task
from domain.ticket import Ticket
from domain.work_item import CUSTOMER, INTERNAL
from projections.base import (
    Positioned,
    Projection,
    Tables,
    dumps,
    iso,
    loads,
    topic_name,
    topics_of,
)
from projections.db import Tx, cached_rows

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
        item_type=e.item_type,
        fields=dict(e.fields),
        project_id=e.project_id,
        folder_id=e.folder_id,
        team_id=None,
        assignees=[],
        followers=[],
        messages=[],
        attachments=[],
        created_at=iso(e.timestamp),
        created_by=e.actor,
        reported_at=None,
        converted_to_task=None,
        logged={},
        logged_minutes=0,
    )


def _planned(doc: Doc, e: Any) -> None:
    """A task: its fields and plan; a converted ticket's document is its beginning."""
    carried = e.carried or {}
    seed = dict(doc) if doc.get("kind") == "ticket" else {}
    doc.clear()
    doc.update(
        id=str(e.originator_id),
        kind="task",
        number=e.number,
        title=e.title,
        description=e.description,
        status=e.status,
        state=e.state,
        priority=e.priority,
        requester_email=e.requester_email,
        channel=seed.get("channel", "api"),
        item_type="task",
        fields=seed.get("fields", {}),
        project_id=e.project_id,
        folder_id=e.folder_id,
        team_id=carried.get("team_id"),
        assignees=sorted(carried.get("assignees", [])),
        followers=sorted(carried.get("followers", [])),
        messages=seed.get("messages", []),
        attachments=seed.get("attachments", []),
        created_at=iso(e.timestamp),
        created_by=carried.get("created_by", e.actor),
        reported_at=seed.get("reported_at"),
        converted_from_ticket=e.converted_from,
        planned={"start": e.start, "finish": e.finish, "duration_days": e.duration_days},
        actual={"start": None, "finish": None},
        constraint={"kind": e.constraint, "on": e.constraint_on},
        work_hours=e.work_hours,
        points=e.points,
        percent_complete=0,
        milestone=e.milestone,
        parent=None,
        subtasks=[],
        predecessors=[],
        successors=[],
        recurrence=None,
        series=e.series_number,
        occurrence_date=e.occurrence_date,
        logged={k: v[1] for k, v in carried.get("logged", {}).items()},
        logged_minutes=sum(v[1] for v in carried.get("logged", {}).values()),
    )


def _time_recorded(doc: Doc, e: Any) -> None:
    """The time that counts on the item, per timesheet entry, and its total."""
    logged = dict(doc.get("logged", {}))
    if e.work_date is None:
        logged.pop(e.entry_id, None)
    else:
        logged[e.entry_id] = e.minutes
    doc["logged"] = logged
    doc["logged_minutes"] = sum(logged.values())


def _time_imported(doc: Doc, e: Any) -> None:
    """A completed import's entries count on the item, all at once."""
    logged = dict(doc.get("logged", {}))
    logged.update({entry: minutes for entry, (_, minutes) in e.entries.items()})
    doc["logged"] = logged
    doc["logged_minutes"] = sum(logged.values())


def _scheduled(doc: Doc, e: Any) -> None:
    doc["planned"] = {"start": e.start, "finish": e.finish, "duration_days": e.duration_days}


def _link(side: str, key: str) -> Callable[[Doc, Any], None]:
    def apply(doc: Doc, e: Any) -> None:
        other = getattr(e, key)
        links = [link for link in doc[side] if link["number"] != other]
        links.append({"number": other, "kind": e.kind, "lag_days": e.lag_days})
        doc[side] = sorted(links, key=lambda link: link["number"])

    return apply


def _unlink(side: str, key: str) -> Callable[[Doc, Any], None]:
    def apply(doc: Doc, e: Any) -> None:
        doc[side] = [link for link in doc[side] if link["number"] != getattr(e, key)]

    return apply


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


def _mail_received(doc: Doc, e: Any) -> None:
    """The message it posted came by mail (the item's opening, when no message has its id)."""
    mail = {
        "message_id": e.mail_message_id,
        "from": e.sender,
        "to": e.recipient,
        "subject": e.subject,
        "threaded_by": e.threaded_by,
        "automatic": e.automatic,
        "non_participant": e.non_participant,
    }
    message = next((m for m in doc["messages"] if m["id"] == e.message_id), None)
    if message is not None:
        message["mail"] = mail
    else:
        doc["opened_by_mail"] = mail


def _mail_bounced(doc: Doc, e: Any) -> None:
    doc.setdefault("mail_bounces", []).append(
        {
            "message_id": e.mail_message_id,
            "recipients": list(e.recipients),
            "status": e.status,
            "diagnostic": e.diagnostic,
            "at": iso(e.timestamp),
        }
    )


def _mail_not_sent(doc: Doc, e: Any) -> None:
    doc.setdefault("mail_failures", []).append(
        {
            "message_id": e.mail_message_id,
            "kind": e.kind,
            "recipient": e.recipient,
            "error": e.error,
            "at": iso(e.timestamp),
        }
    )


def _messages_read(doc: Doc, e: Any) -> None:
    read = set(e.message_ids)
    for message in doc["messages"]:
        if message["id"] in read:
            readers = message.setdefault("read_by", [])
            if e.reader not in readers:
                readers.append(e.reader)


FOLDS: dict[str, Callable[[Doc, Any], None]] = {
    "Ticket.Opened": _opened,
    "Ticket.Retitled": _set("title"),
    "Ticket.Reported": _set("reported_at"),
    "Ticket.DescriptionEdited": _set("description"),
    "Ticket.Reprioritised": _set("priority"),
    "Ticket.StatusChanged": _status_changed,
    "Ticket.UserAssigned": _add_to("assignees"),
    "Ticket.UserUnassigned": _remove_from("assignees"),
    "Ticket.FollowerAdded": _add_to("followers"),
    "Ticket.FollowerRemoved": _remove_from("followers"),
    "Ticket.CustomerReplyPosted": _message(CUSTOMER),
    "Ticket.InternalMessagePosted": _message(INTERNAL),
    "Ticket.AttachmentAdded": _attachment_added,
    "Ticket.Moved": _moved,
    "Ticket.TeamAssigned": _set("team_id"),
    "Ticket.TeamUnassigned": lambda doc, e: doc.update(team_id=None),
    "Ticket.ConvertedToTask": lambda doc, e: doc.update(converted_to_task=e.task_number),
    "Ticket.TimeRecorded": _time_recorded,
    "Ticket.TimeImported": _time_imported,
    "Ticket.MailReceived": _mail_received,
    "Ticket.MailBounced": _mail_bounced,
    "Ticket.MailNotSent": _mail_not_sent,
    "Ticket.MessagesRead": _messages_read,
    "Task.Planned": _planned,
    "Task.Scheduled": _scheduled,
    "Task.ConstraintSet": lambda doc, e: doc.update(
        constraint={"kind": e.constraint, "on": e.constraint_on}
    ),
    "Task.WorkEstimated": _set("work_hours"),
    "Task.PointsEstimated": _set("points"),
    "Task.ProgressSet": _set("percent_complete"),
    "Task.ActualsRecorded": lambda doc, e: doc.update(
        actual={"start": e.actual_start, "finish": e.actual_finish}
    ),
    "Task.MilestoneSet": _set("milestone"),
    "Task.DependencyAdded": _link("predecessors", "predecessor"),
    "Task.DependencyRemoved": _unlink("predecessors", "predecessor"),
    "Task.SuccessorAdded": _link("successors", "successor"),
    "Task.SuccessorRemoved": _unlink("successors", "successor"),
    "Task.ParentSet": _set("parent"),
    "Task.SubtaskAdded": lambda doc, e: doc.update(subtasks=sorted({*doc["subtasks"], e.subtask})),
    "Task.SubtaskRemoved": lambda doc, e: doc.update(
        subtasks=[n for n in doc["subtasks"] if n != e.subtask]
    ),
    "Task.RecurrenceSet": lambda doc, e: doc.update(recurrence=e.rule),
    "Task.RecurrenceStopped": lambda doc, e: doc.update(recurrence=None),
    "Task.OccurrenceCreated": lambda doc, e: doc.update(last_occurrence=e.occurrence_date),
}


def evolve(doc: Doc, event: Any) -> Doc:
    """Apply one ticket event to its document (in place) and return it."""
    fold = FOLDS.get(topic_name(event))
    if fold is not None:
        fold(doc, event)
        doc["version"] = event.originator_version
        doc["updated_at"] = iso(event.timestamp)
    return doc


def fold(events: Iterable[Any]) -> Doc | None:
    """An item's document from its events (None if there are none); a converted task's
    events begin with its ticket's."""
    return fold_on({}, events) or None


def fold_on(doc: Doc, events: Iterable[Any]) -> Doc:
    """`doc` (changed in place) with `events`, the item's next ones, applied."""
    for event in events:
        evolve(doc, event)
    return doc


class TicketDetailProjection(Projection):
    """Reads Ticket and Task events; shows one item whole (`ticket_detail_tickets`)."""

    name = "ticket_detail"
    tables = ("ticket_detail_tickets",)
    topics = (
        topics_of(Ticket)
        | topics_of(Task)
        | {TimeImported.TOPIC, MailReceived.TOPIC, MailBounced.TOPIC}
        | {MailNotSent.TOPIC, MessagesRead.TOPIC}
    )
    # 2: project_id, folder_id, team_id in the document; 3: tasks and conversions
    # 4: logged time; 5: read marks, mail not sent; 6: item types; 7: reported_at
    schema_version = 7

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
        ids = {str(p.event.originator_id) for p in events} | _sources(events)
        created = {str(p.event.originator_id) for p in events if topic_name(p.event) in CREATED}
        # The page's documents: read in one statement per 500 (while rebuilding, only
        # those the rebuild does not hold in memory).
        docs: dict[str, Doc] = cached_rows(
            tx, table, ids, lambda keys: _read(tx, table, keys), created
        )
        stored = set(docs)
        for p in events:
            doc = docs.setdefault(str(p.event.originator_id), {})
            if topic_name(p.event) == "Task.Planned" and p.event.converted_from is not None:
                # The task begins as its ticket's document (a copy: the ticket keeps it).
                doc.update(loads(dumps(docs[str(item_id(p.event.converted_from))])))
            evolve(doc, p.event)
        written = {i: d for i, d in sorted(docs.items()) if d}
        for i, d in written.items():
            if i not in stored:  # New: while rebuilding, a row of a COPY.
                tx.insert_row(
                    table,
                    {"id": i, "number": d["number"], "version": d["version"], "doc": dumps(d)},
                )
        tx.executemany(
            f"INSERT INTO {table} (id, number, version, doc) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc",
            [(i, d["number"], d["version"], dumps(d)) for i, d in written.items() if i in stored],
        )
        if (cache := tx.row_cache(table)) is not None:
            cache.keep(written)


CREATED = frozenset({"Ticket.Opened", "Task.Planned"})


def _read(tx: Tx, table: str, ids: list[str]) -> dict[str, Doc]:
    docs: dict[str, Doc] = {}
    for chunk in _chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        for row in tx.all(f"SELECT id, doc FROM {table} WHERE id IN ({marks})", chunk):
            docs[row["id"]] = loads(row["doc"])
    return docs


def _sources(events: Sequence[Positioned]) -> set[str]:
    """The ids of the tickets that tasks in `events` were converted from."""
    return {
        str(item_id(p.event.converted_from))
        for p in events
        if topic_name(p.event) == "Task.Planned" and p.event.converted_from is not None
    }


def get_ticket(tx: Tx, t: Tables, number: int) -> Doc | None:
    row = tx.one(f"SELECT doc FROM {t['ticket_detail_tickets']} WHERE number = ?", (number,))
    return loads(row["doc"]) if row else None


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
