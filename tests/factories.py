"""Test data builders."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

import psycopg

from commands.models import Context, IssueToken, OpenTicket, RegisterUser
from domain.user import CompanyRole
from domain.values import Actor
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings

SYSTEM = Context(actor=Actor.system("tests"), correlation_id="tests")


def context(name: str = "tests") -> Context:
    return Context(actor=Actor.system(name), correlation_id=str(uuid.uuid4()))


def register(c: bootstrap.Container, email: str, *, admin: bool = False) -> uuid.UUID:
    role = CompanyRole.ADMIN if admin else CompanyRole.MEMBER
    return c.accounts.register_user(
        RegisterUser(email=email, name=email.split("@")[0], role=role), SYSTEM
    ).id


def admin_token(c: bootstrap.Container, email: str = "admin@example.com") -> str:
    register(c, email, admin=True)
    return c.accounts.issue_token(IssueToken(email=email), SYSTEM)[1]


def user_token(c: bootstrap.Container, email: str) -> str:
    register(c, email)
    return c.accounts.issue_token(IssueToken(email=email), SYSTEM)[1]


def open_ticket(c: bootstrap.Container, **fields: Any) -> int:
    fields.setdefault("title", "Printer jammed")
    number = c.commands.open_ticket(OpenTicket(**fields), context()).number
    assert number is not None
    return number


def unprojectable_rename(c: bootstrap.Container, contact_id: uuid.UUID) -> int:
    """Save a `Contact.Renamed` whose name is an object, not text, as a faulty release might
    have recorded it: `customers`, the one view that reads it, cannot store it. Its position."""
    contact = c.app.repository.get(contact_id)
    contact._renamed(name={"given": "Ada"}, actor=SYSTEM.actor.ref, correlation_id="poison")
    return c.app.save_all([contact])


def repair_stored_event(
    settings: Settings, originator_id: uuid.UUID, version: int, **fields: Any
) -> None:
    """Rewrite fields of one stored event in place, as an operator repairing the log would."""

    def repaired(state: bytes) -> bytes:
        return json.dumps({**json.loads(state), **fields}).encode()

    where = "originator_id = ? AND originator_version = ?"
    if settings.database_url is None:
        with sqlite3.connect(settings.data_dir / "events.sqlite3") as conn:
            key = (originator_id.hex, version)
            (state,) = conn.execute(
                f"SELECT state FROM stored_events WHERE {where}", key
            ).fetchone()
            conn.execute(
                f"UPDATE stored_events SET state = ? WHERE {where}", (repaired(state), *key)
            )
        return
    where = where.replace("?", "%s")
    options = f"-c search_path={settings.database_schema}"
    with psycopg.connect(settings.database_url, options=options, autocommit=True) as pg:
        found = pg.execute(
            f"SELECT state FROM ledgerdesk_events WHERE {where}", (originator_id, version)
        ).fetchone()
        assert found is not None
        pg.execute(
            f"UPDATE ledgerdesk_events SET state = %s WHERE {where}",
            (repaired(found[0]), originator_id, version),
        )
