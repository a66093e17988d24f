"""Reading the `live` view: stream rows after an id, the newest row's id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.access import StaffScope
from projections.base import Tables
from projections.db import Tx


def read_after(
    tx: Tx,
    t: Tables,
    after: tuple[int, int],
    audiences: Sequence[str] | None = None,
    limit: int = 1000,
    upto: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Rows after `after` (a `(position, seq)`), oldest first: for `audiences` only, or
    all; up to `upto` when given."""
    position, seq = after
    # (`position >= ?` besides: SQLite then reads an index range, not the whole table)
    where = "position >= ? AND (position > ? OR (position = ? AND seq > ?))"
    params: list[Any] = [position, position, position, seq]
    if upto is not None:
        where += " AND (position < ? OR (position = ? AND seq <= ?))"
        params += [upto[0], upto[0], upto[1]]
    if audiences is not None:
        where += f" AND audience IN ({','.join('?' * len(audiences))})"
        params += list(audiences)
    return tx.all(
        f"SELECT position, seq, audience, name, payload, at FROM {t['live_events']}"
        f" WHERE {where} ORDER BY position, seq LIMIT ?",
        (*params, limit),
    )


def last_row(tx: Tx, t: Tables) -> tuple[int, int]:
    """The id of the newest row; `(0, 0)` (before any row: positions start at 1) when
    there is none."""
    row = tx.one(
        f"SELECT position, seq FROM {t['live_events']} ORDER BY position DESC, seq DESC LIMIT 1"
    )
    return (0, 0) if row is None else (int(row["position"]), int(row["seq"]))


def notifications_of(
    tx: Tx,
    t: Tables,
    user_id: str,
    *,
    unread: bool = False,
    before: tuple[int, int] | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """`user_id`'s notifications, newest first (`before` an id: older than it)."""
    where: list[str] = ["user_id = ?"]
    params: list[Any] = [user_id]
    if unread:
        where.append("read = 0")
    if before is not None:
        where.append("(position < ? OR (position = ? AND seq < ?))")
        params += [before[0], before[0], before[1]]
    return tx.all(
        f"SELECT position, seq, kind, project_id, item_kind, chat_id, payload, read"
        f" FROM {t['notifications']} WHERE {' AND '.join(where)}"
        " ORDER BY position DESC, seq DESC LIMIT ?",
        (*params, limit),
    )


def visible(row: dict[str, Any], scope: StaffScope, takes_chats: bool) -> bool:
    """Whether a notification's reader may see what it is about now (they may have lost the
    project, the app, customer conversations or a manager's role since)."""
    kind, project = row["kind"], row["project_id"]
    if kind == "chat_waiting":
        return takes_chats
    if kind == "join_request":
        return scope.all_projects or scope.roles.get(project) == "manager"
    if kind in ("webhook_disabled", "report_failed"):  # Told only to its owner.
        return True
    return scope.sees(project) and row["item_kind"] in scope.kinds


def notifications_made_by(tx: Tx, t: Tables, event_id: str) -> list[dict[str, Any]]:
    """The notifications one event made (`<aggregate id>:<version>`), in order."""
    return tx.all(
        f"SELECT user_id, kind, project_id, item_kind, payload FROM {t['notifications']}"
        " WHERE event_id = ?"
        " ORDER BY position, seq",
        (event_id,),
    )
