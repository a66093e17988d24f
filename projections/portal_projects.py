"""Portal projects view: reads which projects are shared with which customer organisations
(`Project.Created`, `Renamed`, `SharedWithOrganisation`, `UnsharedWithOrganisation`) and the
customer-safe fields of every item (`Ticket.Opened`, `Task.Planned`, and the events that
change an item's title, status, project, planned dates, progress or actual dates); shows
each project's name (`portal_projects`), the organisations it is shared with
(`portal_project_shares`) and its items (`portal_project_items`).

Like the `portal` view it is an allow-list: it reads no message, attachment, person,
priority, team or time event, and keeps from the events it reads only the columns of
`ITEM_COLUMNS`, so nothing internal can reach its tables. Items of every project are kept,
so that a share shows the project at once; the queries answer only for projects shared with
the caller's organisation, and only items of the kinds `domain.project.customer_visible`
allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from domain.contact import Contact, contact_id_for
from domain.project import customer_visible
from projections.base import (
    InvalidCursorError,
    Positioned,
    Projection,
    Tables,
    decode_cursor,
    encode_cursor,
    topic_name,
)
from projections.db import Row, Tx, cached_rows

ITEM_COLUMNS = (
    "id",
    "number",
    "kind",
    "project_id",
    "title",
    "status",
    "state",
    "start",
    "finish",
    "actual_start",
    "actual_finish",
    "percent_complete",
    "converted_from",
    "requester_contact_id",
    "customer_visible",
)


@dataclass
class ProjectItem:
    """An item as the contacts of an organisation its project is shared with see it (dates
    are ISO days; a ticket has no plan, so its dates and percent complete are None)."""

    id: str
    number: int
    kind: str
    project_id: str
    title: str
    status: str
    state: str
    start: str | None = None
    finish: str | None = None
    actual_start: str | None = None
    actual_finish: str | None = None
    percent_complete: int | None = None
    converted_from: int | None = None
    requester_contact_id: str | None = None

    def row(self) -> tuple[Any, ...]:
        # Flat fields: no deep copy (asdict) per item and page.
        values = vars(self) | {"customer_visible": int(customer_visible(self.kind))}
        return tuple(values[c] for c in ITEM_COLUMNS)

    @classmethod
    def from_row(cls, row: Row) -> ProjectItem:
        return cls(**{c: row[c] for c in ITEM_COLUMNS if c != "customer_visible"})


Fold = Callable[[ProjectItem, Any], None]


def _set(*fields: str) -> Fold:
    def apply(item: ProjectItem, e: Any) -> None:
        for name in fields:
            setattr(item, name, getattr(e, name))

    return apply


FOLDS: dict[str, Fold] = {
    "Ticket.Retitled": _set("title"),
    "Ticket.StatusChanged": _set("status", "state"),
    "Ticket.Moved": _set("project_id"),
    "Task.Scheduled": _set("start", "finish"),
    "Task.ProgressSet": _set("percent_complete"),
    "Task.ActualsRecorded": _set("actual_start", "actual_finish"),
}
PROJECT_EVENTS = frozenset(
    {
        "Project.Created",
        "Project.Renamed",
        "Project.SharedWithOrganisation",
        "Project.UnsharedWithOrganisation",
    }
)
CONTACT_EVENTS = frozenset(
    {"Contact.Registered", "Contact.JoinedOrganisation", "Contact.LeftOrganisation"}
)
READS = (
    PROJECT_EVENTS
    | CONTACT_EVENTS
    | {"Ticket.Opened", "Task.Planned", "Ticket.ConvertedToTask", *FOLDS}
)


@dataclass
class ItemChanges:
    """The items a page of events touched, and the tickets it took away (converted)."""

    items: dict[str, ProjectItem]
    gone: set[str]


def _opened(e: Any, kind: str) -> ProjectItem:
    return ProjectItem(
        id=str(e.originator_id),
        number=e.number,
        kind=kind,
        project_id=e.project_id,
        title=e.title,
        status=e.status,
        state=e.state,
        start=getattr(e, "start", None),
        finish=getattr(e, "finish", None),
        percent_complete=0 if kind == "task" else None,
        converted_from=getattr(e, "converted_from", None),
        requester_contact_id=str(contact_id_for(e.requester_email)) if e.requester_email else None,
    )


def evolve(changes: ItemChanges, event: Any) -> None:
    """Apply one item event. A converted ticket goes (its task has its own row, which names
    the ticket in `converted_from`); events of an item without a row change nothing."""
    name = topic_name(event)
    item_id = str(event.originator_id)
    if name in ("Ticket.Opened", "Task.Planned"):
        changes.items[item_id] = _opened(event, "ticket" if name == "Ticket.Opened" else "task")
        changes.gone.discard(item_id)
    elif name == "Ticket.ConvertedToTask":
        changes.items.pop(item_id, None)
        changes.gone.add(item_id)
    elif name in FOLDS and item_id in changes.items:
        FOLDS[name](changes.items[item_id], event)


class PortalProjectsProjection(Projection):
    """Reads Project names and organisation shares, and items' customer-safe fields; shows
    `portal_projects`, `portal_project_shares` and `portal_project_items`."""

    name = "portal_projects"
    indexes_after_build = True  # (apply reads by primary key only)
    tables = (
        "portal_projects",
        "portal_project_shares",
        "portal_project_items",
        "portal_project_contacts",
    )
    topics = frozenset(f"ledgerdesk:{name}" for name in READS)

    def create(self, tx: Tx, t: Tables) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['portal_projects']} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL)"
        )
        shares = t["portal_project_shares"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {shares} ("
            " project_id TEXT NOT NULL, organisation_id TEXT NOT NULL,"
            " PRIMARY KEY (project_id, organisation_id))"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {shares}_organisation ON {shares} (organisation_id)"
        )
        items = t["portal_project_items"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {items} ("
            " id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL,"
            " project_id TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,"
            " state TEXT NOT NULL, start TEXT, finish TEXT, actual_start TEXT,"
            " actual_finish TEXT, percent_complete INTEGER, converted_from INTEGER,"
            " requester_contact_id TEXT, customer_visible INTEGER NOT NULL)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['portal_project_contacts']} ("
            " contact_id TEXT PRIMARY KEY, organisation_id TEXT)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {items}_project ON {items} (project_id, number)")

    def key_columns(self, base: str) -> str:
        return {
            "portal_projects": "id",
            "portal_project_shares": "project_id, organisation_id",
            "portal_project_items": "id",
            "portal_project_contacts": "contact_id",
        }[base]

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        others = PROJECT_EVENTS | CONTACT_EVENTS
        item_events = [p.event for p in events if topic_name(p.event) not in others]
        for p in events:
            if topic_name(p.event) in PROJECT_EVENTS:
                _apply_project(tx, t, p.event)
            elif topic_name(p.event) in CONTACT_EVENTS:
                _place_contact(tx, t, p.event)
        if item_events:
            table = t["portal_project_items"]
            ids = {str(e.originator_id) for e in item_events}
            created = {str(e.originator_id) for e in item_events if topic_name(e) in CREATED}
            # The page's items, read in one statement per 500 (while rebuilding, only those
            # the rebuild does not hold in memory).
            items = cached_rows(tx, table, ids, lambda keys: _load(tx, t, keys), created)
            changes = ItemChanges(items, set())
            stored = set(items)
            for event in item_events:
                evolve(changes, event)
            _save(tx, t, changes, stored)


def _apply_project(tx: Tx, t: Tables, e: Any) -> None:
    name, project_id = topic_name(e), str(e.originator_id)
    if name == "Project.Created":
        tx.execute(
            f"INSERT INTO {t['portal_projects']} (id, name) VALUES (?, ?)", (project_id, e.name)
        )
    elif name == "Project.Renamed":
        tx.execute(f"UPDATE {t['portal_projects']} SET name = ? WHERE id = ?", (e.name, project_id))
    elif name == "Project.SharedWithOrganisation":
        tx.execute(
            f"INSERT INTO {t['portal_project_shares']} (project_id, organisation_id)"
            " VALUES (?, ?) ON CONFLICT (project_id, organisation_id) DO NOTHING",
            (project_id, e.organisation_id),
        )
    else:  # Project.UnsharedWithOrganisation
        tx.execute(
            f"DELETE FROM {t['portal_project_shares']}"
            " WHERE project_id = ? AND organisation_id = ?",
            (project_id, e.organisation_id),
        )


def _place_contact(tx: Tx, t: Tables, e: Any) -> None:
    """A contact's current organisation (whose items they may be shown)."""
    organisation_id = None if isinstance(e, Contact.LeftOrganisation) else e.organisation_id
    tx.execute(
        f"INSERT INTO {t['portal_project_contacts']} (contact_id, organisation_id) VALUES (?, ?)"
        " ON CONFLICT (contact_id) DO UPDATE SET organisation_id = excluded.organisation_id",
        (str(e.originator_id), organisation_id),
    )


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load(tx: Tx, t: Tables, ids: list[str]) -> dict[str, ProjectItem]:
    found: dict[str, ProjectItem] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT * FROM {t['portal_project_items']} WHERE id IN ({marks})"
        found.update((row["id"], ProjectItem.from_row(row)) for row in tx.all(sql, chunk))
    return found


def _save(tx: Tx, t: Tables, changes: ItemChanges, stored: set[str]) -> None:
    """Delete the items gone, insert the new ones, update those `stored` before."""
    table = t["portal_project_items"]
    for chunk in _chunks(sorted(changes.gone)):
        tx.execute(f"DELETE FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    kept = dict(sorted(changes.items.items()))
    for item_id, item in kept.items():
        if item_id not in stored:  # New: while rebuilding, a row of a COPY.
            tx.insert_row(table, dict(zip(ITEM_COLUMNS, item.row(), strict=True)))
    updated = [item.row() for item_id, item in kept.items() if item_id in stored]
    if updated:
        updates = ", ".join(f"{c} = excluded.{c}" for c in ITEM_COLUMNS[1:])
        tx.executemany(
            f"INSERT INTO {table} ({', '.join(ITEM_COLUMNS)})"
            f" VALUES ({','.join('?' * len(ITEM_COLUMNS))})"
            f" ON CONFLICT (id) DO UPDATE SET {updates}",
            updated,
        )
    if (cache := tx.row_cache(table)) is not None:
        cache.forget(changes.gone)
        cache.keep(kept)


CREATED = frozenset({"Ticket.Opened", "Task.Planned"})


# --- queries: always for one organisation ------------------------------------------------

ITEM_SUMMARY = (
    "i.number, i.kind, i.title, i.status, i.state, i.start, i.finish, i.actual_start,"
    " i.actual_finish, i.percent_complete, i.converted_from"
)


@dataclass(frozen=True)
class Viewer:
    """Who looks: a contact, the organisation whose shared projects they follow, and whether
    they see their colleagues' requests (their organisation's sharing mode says so)."""

    contact_id: str
    organisation_id: str
    sees_colleagues: bool


def _visible_to(t: Tables, viewer: Viewer) -> tuple[str, list[Any]]:
    """Which items of a shared project `viewer` is shown: the project's own work (no
    requester) always; a request only when it is theirs, or a colleague's while they see
    their organisation's requests — never another organisation's."""
    clause = (
        "i.customer_visible = 1 AND (i.requester_contact_id IS NULL OR i.requester_contact_id = ?"
    )
    params: list[Any] = [viewer.contact_id]
    if viewer.sees_colleagues:
        clause += (
            f" OR i.requester_contact_id IN (SELECT contact_id FROM {t['portal_project_contacts']}"
            " WHERE organisation_id = ?)"
        )
        params.append(viewer.organisation_id)
    return clause + ")", params


def shared_projects(tx: Tx, t: Tables, viewer: Viewer) -> list[Row]:
    """The projects shared with the viewer's organisation, by name: `id`, `name`, and how
    many of the items they are shown there are (`item_count`) and are finished
    (`finished_count`)."""
    return _projects(tx, t, viewer, None)


def shared_project(tx: Tx, t: Tables, viewer: Viewer, project_id: str) -> Row | None:
    """The project as `shared_projects` shows it; None if it does not exist or is not
    shared with the viewer's organisation (the two are never told apart)."""
    found = _projects(tx, t, viewer, project_id)
    return found[0] if found else None


def _projects(tx: Tx, t: Tables, viewer: Viewer, project_id: str | None) -> list[Row]:
    shared, params = "s.project_id = p.id AND s.organisation_id = ?", [viewer.organisation_id]
    if project_id is not None:
        shared += " AND p.id = ?"
        params.append(project_id)
    visible, shown = _visible_to(t, viewer)
    return tx.all(
        "SELECT p.id, p.name, COUNT(i.id) AS item_count,"
        " COALESCE(SUM(CASE WHEN i.state = 'finished' THEN 1 ELSE 0 END), 0) AS finished_count"
        f" FROM {t['portal_projects']} p JOIN {t['portal_project_shares']} s ON {shared}"
        f" LEFT JOIN {t['portal_project_items']} i"
        f" ON i.project_id = p.id AND {visible}"
        " GROUP BY p.id, p.name ORDER BY p.name, p.id",
        [*params, *shown],
    )


def project_items(
    tx: Tx, t: Tables, viewer: Viewer, project_id: str, cursor: str | None, limit: int
) -> tuple[list[Row], str | None]:
    """A page of the items of the project the viewer is shown, by number (ask
    `shared_project` first: this answers for any project)."""
    visible, shown = _visible_to(t, viewer)
    where, params = f"i.project_id = ? AND {visible}", [project_id, *shown]
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, int):
            raise InvalidCursorError("cursor is not valid")
        where += " AND i.number > ?"
        params.append(last)
    rows = tx.all(
        f"SELECT {ITEM_SUMMARY} FROM {t['portal_project_items']} i WHERE {where}"
        " ORDER BY i.number LIMIT ?",
        (*params, limit + 1),
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["number"])
    return rows, next_cursor
