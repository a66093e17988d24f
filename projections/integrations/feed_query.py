"""The feed's queries: a page of the public events a caller may see, in log order after a
position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.company_settings import ITEM_APPS
from projections.access import StaffScope
from projections.base import Tables, loads
from projections.db import Tx
from projections.timesheet_query import EntryScope

COLUMNS = "position, type, occurred_at, actor, correlation_id, causation_id, data"


@dataclass(frozen=True)
class FeedScope:
    """Which public events a caller sees: those of the item kinds they may use (their apps,
    while the company's are on) in the projects they see (every project: `everything`),
    the time entries they see (their own and those of the projects they lead; every one:
    `everything`) while timesheets are on, and chats when they take chats and the
    messenger is on."""

    everything: bool
    kinds: frozenset[str]
    projects: frozenset[str]
    entries: EntryScope
    chats: bool
    timesheets: bool = True

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        kinds, projects = sorted(self.kinds), sorted(self.projects)
        if kinds and (self.everything or projects):
            where = f"kind IN ({_marks(kinds)})"
            if not self.everything:
                where += f" AND project_id IN ({_marks(projects)})"
                params += [*kinds, *projects]
            else:
                params += kinds
            clauses.append(f"({where})")
        if self.timesheets:
            if self.everything:
                clauses.append("type = 'timesheet.approved'")
            else:
                led = sorted(self.entries.led_projects)
                mine = "user_id = ?" + (f" OR project_id IN ({_marks(led)})" if led else "")
                clauses.append(f"(type = 'timesheet.approved' AND ({mine}))")
                params += [self.entries.user_id, *led]
        if self.chats:
            clauses.append("type = 'chat.started'")
        return (f"({' OR '.join(clauses)})" if clauses else "1 = 0"), params


def feed_scope(
    user_id: str, scope: StaffScope, takes_chats: bool, apps: dict[str, bool]
) -> FeedScope:
    """What a staff user sees of the feed, from what they see of the projects and the
    company's apps in force."""
    return FeedScope(
        everything=scope.all_projects,
        kinds=frozenset(k for k in scope.kinds if apps[ITEM_APPS[k]]),
        projects=scope.project_ids,
        entries=EntryScope.of(user_id, scope),
        chats=takes_chats and apps["messenger"],
        timesheets=apps["timesheets"],
    )


def company_scope(apps: dict[str, bool]) -> FeedScope:
    """What the company's own subscriptions (admins' webhooks) see: every event of the apps
    in force."""
    return FeedScope(
        everything=True,
        kinds=frozenset(k for k, app in ITEM_APPS.items() if apps[app]),
        projects=frozenset(),
        entries=EntryScope("", True, frozenset()),
        chats=apps["messenger"],
        timesheets=apps["timesheets"],
    )


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def feed_page(
    tx: Tx, t: Tables, scope: FeedScope, after: int, types: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` public events after log position `after`, of `types` (all: empty),
    that `scope` sees, in log order."""
    where, params = scope.where()
    clauses = ["position > ?", where]
    if types:
        clauses.append(f"type IN ({_marks(types)})")
    rows = tx.all(
        f"SELECT {COLUMNS} FROM {t['feed_events']} WHERE {' AND '.join(clauses)}"
        f" ORDER BY position LIMIT {int(limit)}",
        (after, *params, *types),
    )
    return [shown(row) for row in rows]


def recent(
    tx: Tx, t: Tables, scope: FeedScope, event_type: str, limit: int
) -> list[dict[str, Any]]:
    """The newest public events of `event_type` that `scope` sees, newest first."""
    where, params = scope.where()
    rows = tx.all(
        f"SELECT {COLUMNS} FROM {t['feed_events']} WHERE type = ? AND {where}"
        f" ORDER BY position DESC LIMIT {int(limit)}",
        (event_type, *params),
    )
    return [shown(row) for row in rows]


def event_at(tx: Tx, t: Tables, position: int) -> dict[str, Any] | None:
    row = tx.one(f"SELECT {COLUMNS} FROM {t['feed_events']} WHERE position = ?", (position,))
    return None if row is None else shown(row)


def visible(tx: Tx, t: Tables, scope: FeedScope, event: dict[str, Any]) -> bool:
    """Whether `scope` sees this public event (the feed's own rule, asked of one row)."""
    found = feed_page(tx, t, scope, event["position"] - 1, [event["type"]], 1)
    return bool(found) and found[0]["position"] == event["position"]


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """A feed row as integrations receive it (its id is its position)."""
    return {
        "id": str(row["position"]),
        "position": int(row["position"]),
        "type": row["type"],
        "occurred_at": row["occurred_at"],
        "actor": row["actor"],
        "correlation_id": row["correlation_id"],
        "causation_id": row["causation_id"],
        "data": loads(row["data"]),
    }
