"""Customer directory view: reads Organisation and Contact events; shows every customer
organisation (with its contact count) and every contact, with whose items they see."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from domain.contact import Contact, item_scope
from domain.customer import Organisation
from projections.base import (
    Positioned,
    Projection,
    Tables,
    decode_cursor,
    dumps,
    encode_cursor,
    iso,
    loads,
    topics_of,
)
from projections.db import Tx

ORGANISATION_COLUMNS = (
    "o.id, o.name, o.domains, o.sharing, o.version, o.created_at, o.updated_at,"
    " (SELECT COUNT(*) FROM {contacts} c WHERE c.organisation_id = o.id) AS contact_count"
)
CONTACT_COLUMNS = (
    "c.id, c.email, c.name, c.organisation_id, c.sees_colleagues_items, c.source, c.user_id,"
    " c.mail_failing, c.version, c.created_at, c.updated_at,"
    " o.sharing AS organisation_sharing"
)


class CustomerDirectoryProjection(Projection):
    """Reads Organisation and Contact events; shows one row per organisation
    (`customer_organisations`) and one per contact (`customer_contacts`)."""

    name = "customers"
    tables = ("customer_organisations", "customer_contacts")
    topics = topics_of(Organisation) | topics_of(Contact)
    # 2: whether mail to a contact fails (`mail_failing`).
    schema_version = 2

    def create(self, tx: Tx, t: Tables) -> None:
        organisations, contacts = t["customer_organisations"], t["customer_contacts"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {organisations} ("
            " id TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL,"
            " domains TEXT NOT NULL, sharing TEXT NOT NULL, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, version INTEGER NOT NULL)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {organisations}_name ON {organisations} (name_key, id)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {contacts} ("
            " id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
            " organisation_id TEXT, sees_colleagues_items INTEGER NOT NULL,"
            " source TEXT NOT NULL, user_id TEXT, mail_failing TEXT, created_at TEXT NOT NULL,"
            " updated_at TEXT NOT NULL, version INTEGER NOT NULL)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {contacts}_organisation"
            f" ON {contacts} (organisation_id, email)"
        )

    def key_columns(self, base: str) -> str:
        return "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            e = p.event
            if isinstance(e, Organisation.Registered):
                _insert_organisation(tx, t["customer_organisations"], e)
            elif isinstance(e, Contact.Registered):
                _insert_contact(tx, t["customer_contacts"], e)
            else:
                base, change = _CHANGES.get(type(e), ("", None))
                if change is not None:
                    _update(tx, t[base], e, change(e))


def _insert_organisation(tx: Tx, table: str, e: Any) -> None:
    tx.execute(
        f"INSERT INTO {table} (id, name, name_key, domains, sharing, created_at,"
        " updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            str(e.originator_id),
            e.name,
            e.name.casefold(),
            dumps(e.domains),
            e.sharing,
            iso(e.timestamp),
            iso(e.timestamp),
            e.originator_version,
        ),
    )


def _insert_contact(tx: Tx, table: str, e: Any) -> None:
    tx.execute(
        f"INSERT INTO {table} (id, email, name, organisation_id, sees_colleagues_items,"
        " source, user_id, created_at, updated_at, version)"
        " VALUES (?, ?, ?, ?, 0, ?, NULL, ?, ?, ?)",
        (
            str(e.originator_id),
            e.email,
            e.name,
            e.organisation_id,
            e.source,
            iso(e.timestamp),
            iso(e.timestamp),
            e.originator_version,
        ),
    )


def _update(tx: Tx, table: str, e: Any, columns: dict[str, Any]) -> None:
    columns.update(updated_at=iso(e.timestamp), version=e.originator_version)
    assignments = ", ".join(f"{c} = ?" for c in columns)
    tx.execute(
        f"UPDATE {table} SET {assignments} WHERE id = ?",
        (*columns.values(), str(e.originator_id)),
    )


def _failing(e: Any) -> str:
    failing = {"since": iso(e.timestamp), "status": e.status, "diagnostic": e.diagnostic}
    return dumps({**failing, "number": e.number})


_ORGS, _CONTACTS = "customer_organisations", "customer_contacts"
_CHANGES: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    Organisation.Renamed: (_ORGS, lambda e: {"name": e.name, "name_key": e.name.casefold()}),
    Organisation.SharingChanged: (_ORGS, lambda e: {"sharing": e.sharing}),
    Organisation.DomainsChanged: (_ORGS, lambda e: {"domains": dumps(e.domains)}),
    Contact.Renamed: (_CONTACTS, lambda e: {"name": e.name}),
    Contact.JoinedOrganisation: (_CONTACTS, lambda e: {"organisation_id": e.organisation_id}),
    Contact.LeftOrganisation: (
        _CONTACTS,
        lambda e: {"organisation_id": None, "sees_colleagues_items": 0},
    ),
    Contact.ColleagueVisibilityChanged: (
        _CONTACTS,
        lambda e: {"sees_colleagues_items": int(e.sees_colleagues_items)},
    ),
    Contact.TurnedIntoStaff: (_CONTACTS, lambda e: {"user_id": e.user_id}),
    Contact.MailFailing: (_CONTACTS, lambda e: {"mail_failing": _failing(e)}),
    Contact.MailWorking: (_CONTACTS, lambda e: {"mail_failing": None}),
    # Portal invitations and sessions show nothing here, but they move the contact's
    # version: the row's version must stay the one If-Match is checked against.
    **{
        kind: (_CONTACTS, lambda e: {})
        for kind in (
            Contact.PortalInvitationIssued,
            Contact.PortalInvitationRedeemed,
            Contact.PortalSessionStarted,
            Contact.PortalSessionEnded,
            Contact.PortalPasswordSet,
        )
    },
}


# --- queries ------------------------------------------------------------------------


def _like(q: str) -> str:
    return "%" + q.casefold().replace("%", "").replace("_", "") + "%"


def _organisation_sql(t: Tables) -> str:
    columns = ORGANISATION_COLUMNS.format(contacts=t["customer_contacts"])
    return f"SELECT {columns} FROM {t['customer_organisations']} o"


def _organisation_shown(row: dict[str, Any]) -> dict[str, Any]:
    row["domains"] = loads(row["domains"])
    row["contact_count"] = int(row["contact_count"])
    return row


def list_organisations(
    tx: Tx, t: Tables, q: str | None, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Customer organisations by name, a page at a time."""
    where: list[str] = []
    params: list[Any] = []
    if q:
        where.append("(o.name_key LIKE ? OR o.domains LIKE ?)")
        params += [_like(q), _like(q)]
    if cursor:
        name_key, last_id = decode_cursor(cursor, 2)
        where.append("(o.name_key > ? OR (o.name_key = ? AND o.id > ?))")
        params += [str(name_key), str(name_key), str(last_id)]
    sql = _organisation_sql(t)
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = tx.all(sql + " ORDER BY o.name_key, o.id LIMIT ?", (*params, limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["name"].casefold(), rows[-1]["id"])
    return [_organisation_shown(row) for row in rows], next_cursor


def get_organisation(tx: Tx, t: Tables, organisation_id: str) -> dict[str, Any] | None:
    """One organisation with its number of contacts (None if the view has no such row)."""
    row = tx.one(_organisation_sql(t) + " WHERE o.id = ?", (organisation_id,))
    return _organisation_shown(row) if row is not None else None


def _contact_sql(t: Tables) -> str:
    return (
        f"SELECT {CONTACT_COLUMNS} FROM {t['customer_contacts']} c"
        f" LEFT JOIN {t['customer_organisations']} o ON o.id = c.organisation_id"
    )


def _contact_shown(row: dict[str, Any]) -> dict[str, Any]:
    row["sees_colleagues_items"] = bool(row["sees_colleagues_items"])
    row["mail_failing"] = loads(row["mail_failing"]) if row["mail_failing"] else None
    row["sees"] = item_scope(row.pop("organisation_sharing"), row["sees_colleagues_items"])
    return row


def list_contacts(
    tx: Tx,
    t: Tables,
    organisation_id: str | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """Contacts by email (of one organisation, or all), a page at a time."""
    where: list[str] = []
    params: list[Any] = []
    if organisation_id is not None:
        where.append("c.organisation_id = ?")
        params.append(organisation_id)
    if q:
        where.append("(c.email LIKE ? OR lower(c.name) LIKE ?)")
        params += [_like(q), _like(q)]
    if cursor:
        where.append("c.email > ?")
        params.append(str(decode_cursor(cursor, 1)[0]))
    sql = _contact_sql(t)
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = tx.all(sql + " ORDER BY c.email LIMIT ?", (*params, limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["email"])
    return [_contact_shown(row) for row in rows], next_cursor


def get_contact(tx: Tx, t: Tables, contact_id: str) -> dict[str, Any] | None:
    """One contact and whose items they see (None if the view has no such row)."""
    row = tx.one(_contact_sql(t) + " WHERE c.id = ?", (contact_id,))
    return _contact_shown(row) if row is not None else None


def contact_candidates(tx: Tx, t: Tables, organisation_id: str, since: str) -> list[str]:
    """Contacts in the organisation now, or changed after `since` (an `iso` moment):
    everyone who might have been in it at `since`."""
    rows = tx.all(
        f"SELECT id FROM {t['customer_contacts']}"
        " WHERE organisation_id = ? OR updated_at > ? ORDER BY id",
        (organisation_id, since),
    )
    return [row["id"] for row in rows]
