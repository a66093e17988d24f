"""Webhooks view: reads the `Webhook` and `WebhookDelivery` events; shows each live
subscription (`webhooks`: kind, URL, events, owner, whether active and why not), each
delivery (`webhook_deliveries`: its event, state, attempts so far, the last status) and
each attempt (`webhook_attempts`: when, to which URL, the request headers sent, the status
or error that came back, how long it took, the start of the response) — the delivery log.
The publisher (`workers/webhooks.py`) asks it which subscriptions take an event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.webhooks.deliveries import WebhookDelivery, succeeded
from domain.webhooks.subscriptions import Webhook
from projections.base import Positioned, Projection, Tables, dumps, iso, loads, topic_name
from projections.db import Tx

READS = frozenset(
    {
        *(f"{Webhook.TOPIC}.{name}" for name in ("Subscribed", "Changed", "Disabled", "Removed")),
        *(
            f"{WebhookDelivery.TOPIC}.{name}"
            for name in ("Queued", "AttemptStarted", "AttemptEnded", "Abandoned")
        ),
    }
)


class WebhooksProjection(Projection):
    name = "webhooks"
    tables = ("webhooks", "webhook_deliveries", "webhook_attempts")
    topics = READS

    def create(self, tx: Tx, t: Tables) -> None:
        hooks, deliveries, attempts = t["webhooks"], t["webhook_deliveries"], t["webhook_attempts"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {hooks} (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " url TEXT NOT NULL, events TEXT NOT NULL, owner TEXT NOT NULL,"
            " active INTEGER NOT NULL, disabled_reason TEXT, created_at TEXT NOT NULL,"
            " active_since BIGINT NOT NULL)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {deliveries} (id TEXT PRIMARY KEY,"
            " webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL,"
            " state TEXT NOT NULL, attempts INTEGER NOT NULL, last_status INTEGER,"
            " last_at TEXT, queued_at TEXT NOT NULL, position BIGINT NOT NULL,"
            " scheduled INTEGER NOT NULL DEFAULT 0, scheduled_at TEXT)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {deliveries}_hook ON {deliveries} (webhook_id, position)"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {attempts} (delivery_id TEXT NOT NULL,"
            " attempt INTEGER NOT NULL, url TEXT NOT NULL, started_at TEXT NOT NULL,"
            " manual INTEGER NOT NULL, status INTEGER, error TEXT, duration_ms INTEGER,"
            " request_headers TEXT, response TEXT, PRIMARY KEY (delivery_id, attempt))"
        )

    def key_columns(self, base: str) -> str:
        return "delivery_id, attempt" if base == "webhook_attempts" else "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            e, name = p.event, topic_name(p.event)
            key = {"id": str(e.originator_id)}
            if name == "Webhook.Subscribed":
                tx.insert_row(
                    t["webhooks"],
                    {
                        **key, "kind": e.kind, "url": e.url, "events": dumps(e.events),
                        "owner": e.owner, "active": 1, "disabled_reason": None,
                        "created_at": iso(e.timestamp), "active_since": p.position,
                    },
                )  # fmt: skip
            elif name == "Webhook.Changed":
                changes = {k: v for k, v in e.changes.items() if k in ("url", "events", "active")}
                if "events" in changes:
                    changes["events"] = dumps(changes["events"])
                if "active" in changes:
                    changes["active"] = int(changes["active"])
                    if changes["active"]:
                        changes["disabled_reason"] = None
                        changes["active_since"] = p.position
                if changes:
                    tx.update_row(t["webhooks"], key, changes)
            elif name == "Webhook.Disabled":
                tx.update_row(t["webhooks"], key, {"active": 0, "disabled_reason": e.reason})
            elif name == "Webhook.Removed":
                tx.delete_row(t["webhooks"], key)
            else:
                _delivery(tx, t, p, name)


def _delivery(tx: Tx, t: Tables, p: Positioned, name: str) -> None:
    e = p.event
    key = {"id": str(e.originator_id)}
    if name == "WebhookDelivery.Queued":
        tx.insert_row(
            t["webhook_deliveries"],
            {
                **key, "webhook_id": e.webhook_id, "event_id": e.event_id,
                "event_type": e.event_type, "state": "pending", "attempts": 0,
                "last_status": None, "last_at": None, "queued_at": iso(e.timestamp),
                "position": p.position,
            },
        )  # fmt: skip
    elif name == "WebhookDelivery.AttemptStarted":
        tx.insert_row(
            t["webhook_attempts"],
            {
                "delivery_id": key["id"], "attempt": e.attempt, "url": e.url,
                "started_at": e.at, "manual": int(e.manual), "status": None, "error": None,
                "duration_ms": None, "request_headers": None, "response": None,
            },
            ("delivery_id", "attempt"),
        )  # fmt: skip
        tx.update_row(t["webhook_deliveries"], key, {"attempts": e.attempt, "last_at": e.at})
        if not e.manual:
            tx.execute(
                f"UPDATE {t['webhook_deliveries']} SET scheduled = scheduled + 1,"
                " scheduled_at = ? WHERE id = ?",
                (e.at, key["id"]),
            )
    elif name == "WebhookDelivery.AttemptEnded":
        tx.execute(
            f"UPDATE {t['webhook_attempts']} SET status = ?, error = ?, duration_ms = ?,"
            " request_headers = ?, response = ? WHERE delivery_id = ? AND attempt = ?",
            (
                e.status, e.error, e.duration_ms, dumps(e.request_headers), e.response,
                key["id"], e.attempt,
            ),
        )  # fmt: skip
        state = {"state": "delivered"} if succeeded(e.status) else {}
        if not state:
            row = tx.one(f"SELECT state FROM {t['webhook_deliveries']} WHERE id = ?", (key["id"],))
            state = {"state": "failing"} if row and row["state"] == "pending" else {}
        tx.update_row(t["webhook_deliveries"], key, {"last_status": e.status, **state})
    elif name == "WebhookDelivery.Abandoned":
        tx.update_row(t["webhook_deliveries"], key, {"state": "abandoned"})


# --- queries ---------------------------------------------------------------------------


def _hook(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "events": loads(row["events"]), "active": bool(row["active"])}


def subscriptions(tx: Tx, t: Tables, kind: str, owner: str | None = None) -> list[dict[str, Any]]:
    """The live subscriptions of `kind` (of `owner` only, if given), oldest first."""
    where, params = "kind = ?", list[Any]([kind])
    if owner is not None:
        where, params = f"{where} AND owner = ?", [*params, owner]
    rows = tx.all(
        f"SELECT id, kind, url, events, owner, active, disabled_reason, created_at"
        f" FROM {t['webhooks']} WHERE {where} ORDER BY created_at, id",
        tuple(params),
    )
    return [_hook(row) for row in rows]


def taking(tx: Tx, t: Tables, event_type: str, position: int) -> list[dict[str, Any]]:
    """The subscriptions that take the event of `event_type` at `position`: active, with
    the type among their events, and active since before it (an event of a time when a
    subscription did not exist, or was off, is not sent when it comes on)."""
    rows = tx.all(
        f"SELECT id, kind, url, events, owner, active, disabled_reason, created_at"
        f" FROM {t['webhooks']} WHERE active = 1 AND active_since < ? ORDER BY id",
        (position,),
    )
    return [hook for hook in map(_hook, rows) if event_type in hook["events"]]


def deliveries(
    tx: Tx, t: Tables, webhook_id: str, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """A page of a subscription's deliveries, newest first, each with its attempts."""
    where, params = "webhook_id = ?", list[Any]([webhook_id])
    if before is not None:
        where, params = f"{where} AND position < ?", [*params, before]
    rows = tx.all(
        f"SELECT id, event_id, event_type, state, attempts, last_status, last_at, queued_at,"
        f" position FROM {t['webhook_deliveries']} WHERE {where}"
        f" ORDER BY position DESC LIMIT {int(limit)}",
        tuple(params),
    )
    for row in rows:
        row["attempt_log"] = attempts(tx, t, row["id"])
    return rows


def attempts(tx: Tx, t: Tables, delivery_id: str) -> list[dict[str, Any]]:
    rows = tx.all(
        f"SELECT attempt, url, started_at, manual, status, error, duration_ms, request_headers,"
        f" response FROM {t['webhook_attempts']} WHERE delivery_id = ? ORDER BY attempt",
        (delivery_id,),
    )
    for row in rows:
        row["manual"] = bool(row["manual"])
        row["request_headers"] = loads(row["request_headers"]) if row["request_headers"] else None
    return rows


def delivery(tx: Tx, t: Tables, delivery_id: str) -> dict[str, Any] | None:
    row = tx.one(
        f"SELECT id, webhook_id, event_id, event_type, state, attempts, last_status, last_at,"
        f" queued_at, position FROM {t['webhook_deliveries']} WHERE id = ?",
        (delivery_id,),
    )
    if row is not None:
        row["attempt_log"] = attempts(tx, t, delivery_id)
    return row


def unsettled(tx: Tx, t: Tables) -> list[dict[str, Any]]:
    """The deliveries neither delivered nor abandoned: each with its subscription, event,
    how many scheduled attempts it had and when the last began (for the sweep)."""
    return tx.all(
        f"SELECT webhook_id, event_id, scheduled, scheduled_at, queued_at"
        f" FROM {t['webhook_deliveries']} WHERE state IN ('pending', 'failing')"
        " ORDER BY position"
    )
