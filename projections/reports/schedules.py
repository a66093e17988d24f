"""Report schedules view: reads ReportSchedule events and the mails of its runs
(OutboundMail events of kind `report`); shows each live schedule with when it is next due
(`report_schedules`, which the workers' tick reads), each period's run
(`report_runs`) and each run's mail per recipient (`report_run_mails`).

A run's outcome, as read: `making` (under way), `retrying` (the report could not be made;
tried again at `retry_at`), `failed` (given up, or a mail that could not be delivered),
`sending` (mails queued, not all delivered yet), `sent` (every mail delivered), or
`missed` (periods the workers were down for: how many, in its error)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from domain.mail.outgoing import MailKind
from domain.views.report_schedule import ReportSchedule
from domain.views.schedule import next_run
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
from projections.db import Tx

MAIL_TOPICS = frozenset(f"ledgerdesk:OutboundMail.{name}" for name in ("Queued", "Sent", "Failed"))


def next_due(row: dict[str, Any]) -> str | None:
    """When a schedule's row says it is next due (`domain.views.schedule.next_run`)."""
    due = next_run(
        loads(row["schedule"]),
        active=bool(row["active"]),
        starts=row["starts"],
        last_period=row["last_period"],
        retry=(row["retry_period"], row["retry_at"]) if row["retry_at"] else None,
    )
    return iso(due) if due else None


def _schedule(tx: Tx, t: Tables, schedule_id: str) -> dict[str, Any] | None:
    return tx.one(f"SELECT * FROM {t['report_schedules']} WHERE id = ?", (schedule_id,))


def _update(tx: Tx, t: Tables, e: Any, changes: dict[str, Any]) -> None:
    """Change a schedule's row, and when it is next due after the change."""
    row = _schedule(tx, t, str(e.originator_id))
    if row is None:
        return
    row.update(changes)
    changes["next_due"] = next_due(row)
    changes["version"] = e.originator_version
    changes["updated_at"] = iso(e.timestamp)
    tx.update_row(t["report_schedules"], {"id": row["id"]}, changes)


def _scheduled(tx: Tx, t: Tables, e: Any) -> None:
    row = {
        "id": str(e.originator_id),
        "report_id": e.report_id,
        "owner_id": e.owner,
        "recipients": dumps(e.recipients),
        "format": e.format,
        "schedule": dumps(e.schedule),
        "active": 1 if e.active else 0,
        "starts": e.starts,
        "last_period": None,
        "retry_at": None,
        "retry_period": None,
        "version": e.originator_version,
        "created_at": iso(e.timestamp),
        "updated_at": iso(e.timestamp),
    }
    tx.insert_row(t["report_schedules"], {**row, "next_due": next_due(row)})


def _changed(tx: Tx, t: Tables, e: Any) -> None:
    row = _schedule(tx, t, str(e.originator_id))
    restarted = row is not None and row["starts"] != e.starts
    changes = {
        "recipients": dumps(e.recipients),
        "format": e.format,
        "schedule": dumps(e.schedule),
        "active": 1 if e.active else 0,
        "starts": e.starts,
    }
    restart = {"retry_at": None, "retry_period": None}
    _update(tx, t, e, {**changes, **restart} if restarted else changes)


def _deleted(tx: Tx, t: Tables, e: Any) -> None:
    schedule_id = str(e.originator_id)
    for table in ("report_run_mails", "report_runs"):
        tx.execute(f"DELETE FROM {t[table]} WHERE schedule_id = ?", (schedule_id,))
    tx.delete_row(t["report_schedules"], {"id": schedule_id})


def _run(tx: Tx, t: Tables, e: Any, values: dict[str, Any], attempt: int | None = None) -> None:
    key = {"schedule_id": str(e.originator_id), "period": e.period}
    if _schedule(tx, t, key["schedule_id"]) is None:
        return  # (Deleted: its runs went with it.)
    runs = t["report_runs"]
    found = tx.one(
        f"SELECT 1 AS x FROM {runs} WHERE schedule_id = ? AND period = ?",
        (key["schedule_id"], key["period"]),
    )
    attempts = e.attempt if attempt is None else attempt
    values = {**values, "attempts": attempts, "updated_at": iso(e.timestamp)}
    if found is None:
        empty = {"error": None, "retry_at": None, "file": None, "days": None, "recipients": "[]"}
        tx.insert_row(runs, {**key, **empty, **values})
    else:
        tx.update_row(runs, key, values)


def _run_sent(tx: Tx, t: Tables, e: Any) -> None:
    file = {"name": e.name, "media_type": e.media_type, "size": e.size}
    _run(
        tx,
        t,
        e,
        {
            "outcome": "made",
            "error": None,
            "retry_at": None,
            "file": dumps(file),
            "days": dumps(e.days),
            "recipients": dumps(e.recipients),
        },
    )
    _update(tx, t, e, {"last_period": e.period, "retry_at": None, "retry_period": None})


def _run_failed(tx: Tx, t: Tables, e: Any) -> None:
    outcome = "retrying" if e.retry_at else "failed"
    _run(tx, t, e, {"outcome": outcome, "error": e.error, "retry_at": e.retry_at})
    if e.retry_at:
        _update(tx, t, e, {"retry_at": e.retry_at, "retry_period": e.period})
    else:
        _update(tx, t, e, {"last_period": e.period, "retry_at": None, "retry_period": None})


def _run_started(tx: Tx, t: Tables, e: Any) -> None:
    _run(tx, t, e, {"outcome": "making", "error": None, "retry_at": None})
    _update(tx, t, e, {"retry_at": e.until, "retry_period": e.period})


def _missed(tx: Tx, t: Tables, e: Any) -> None:
    """Periods the workers missed: one row, at the first, saying how many."""
    _run(tx, t, e, {"outcome": "missed", "error": e.error, "retry_at": None}, attempt=0)
    _update(tx, t, e, {"last_period": e.last})


SCHEDULE_CHANGES: dict[str, Callable[[Tx, Tables, Any], None]] = {
    "Scheduled": _scheduled,
    "Changed": _changed,
    "Deleted": _deleted,
    "RunStarted": _run_started,
    "RunSent": _run_sent,
    "RunFailed": _run_failed,
    "Missed": _missed,
    # (Its mail's `Failed` shows on the run; the schedule's version moves on.)
    "DeliveryFailed": lambda tx, t, e: _update(tx, t, e, {}),
}


def _mail(tx: Tx, t: Tables, e: Any) -> None:
    mails = t["report_run_mails"]
    name = type(e).__name__
    if name == "Queued":
        if e.kind == MailKind.REPORT.value and _schedule(tx, t, e.context["schedule_id"]):
            tx.insert_row(
                mails,
                {
                    "outbound_id": str(e.originator_id),
                    "schedule_id": e.context["schedule_id"],
                    "period": e.context["period"],
                    "recipient": e.recipient,
                    "state": "queued",
                    "error": None,
                },
            )
        return
    state = {"Sent": ("sent", None), "Failed": ("failed", getattr(e, "error", None))}[name]
    tx.execute(
        f"UPDATE {mails} SET state = ?, error = ? WHERE outbound_id = ?",
        (*state, str(e.originator_id)),
    )


class ReportSchedulesProjection(Projection):
    """Reads ReportSchedule events and report mails' events; shows the schedules, their
    runs and each run's mails."""

    name = "report_schedules"
    tables = ("report_schedules", "report_runs", "report_run_mails")
    topics = topics_of(ReportSchedule) | MAIL_TOPICS
    schema_version = 1

    def create(self, tx: Tx, t: Tables) -> None:
        schedules, runs, mails = t["report_schedules"], t["report_runs"], t["report_run_mails"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {schedules} ("
            " id TEXT PRIMARY KEY, report_id TEXT NOT NULL, owner_id TEXT NOT NULL,"
            " recipients TEXT NOT NULL, format TEXT NOT NULL, schedule TEXT NOT NULL,"
            " active INTEGER NOT NULL, starts TEXT NOT NULL, last_period TEXT, retry_at TEXT,"
            " retry_period TEXT,"
            " next_due TEXT, version INTEGER NOT NULL,"
            " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {schedules}_due ON {schedules} (next_due)")
        tx.execute(f"CREATE INDEX IF NOT EXISTS {schedules}_owner ON {schedules} (owner_id)")
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {runs} ("
            " schedule_id TEXT NOT NULL, period TEXT NOT NULL, outcome TEXT NOT NULL,"
            " attempts INTEGER NOT NULL, error TEXT, retry_at TEXT, file TEXT, days TEXT,"
            " recipients TEXT NOT NULL, updated_at TEXT NOT NULL,"
            " PRIMARY KEY (schedule_id, period))"
        )
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {mails} ("
            " outbound_id TEXT PRIMARY KEY, schedule_id TEXT NOT NULL, period TEXT NOT NULL,"
            " recipient TEXT NOT NULL, state TEXT NOT NULL, error TEXT)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {mails}_run ON {mails} (schedule_id, period)")

    def key_columns(self, base: str) -> str:
        return {
            "report_schedules": "id",
            "report_runs": "schedule_id, period",
            "report_run_mails": "outbound_id",
        }[base]

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        for p in events:
            e = p.event
            kind, _, name = topic_name(e).partition(".")
            if kind == "OutboundMail":
                _mail(tx, t, e)
                continue
            change = SCHEDULE_CHANGES.get(name)
            if change is not None:
                change(tx, t, e)


# --- reads ---------------------------------------------------------------------------


def due_schedules(tx: Tx, t: Tables, now: datetime) -> list[tuple[str, str]]:
    """The schedules due by `now`, each with when it fell due (a run may still find nothing
    to do: the write model decides)."""
    rows = tx.all(
        f"SELECT id, next_due FROM {t['report_schedules']} WHERE next_due <= ?"
        " ORDER BY next_due, id",
        (iso(now),),
    )
    return [(r["id"], r["next_due"]) for r in rows]


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "report_id": row["report_id"],
        "owner_id": row["owner_id"],
        "recipients": loads(row["recipients"]),
        "format": row["format"],
        "schedule": loads(row["schedule"]),
        "active": bool(row["active"]),
        "next_run_at": row["next_due"],
        "last_period": row["last_period"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def schedules_of(tx: Tx, t: Tables, owner_id: str | None) -> list[dict[str, Any]]:
    """The schedules `owner_id` owns (None: every one), oldest first."""
    where, params = ("WHERE owner_id = ?", (owner_id,)) if owner_id else ("", ())
    rows = tx.all(f"SELECT * FROM {t['report_schedules']} {where} ORDER BY created_at, id", params)
    return [_shown(r) for r in rows]


def schedule_of(tx: Tx, t: Tables, schedule_id: str) -> dict[str, Any] | None:
    row = _schedule(tx, t, schedule_id)
    return _shown(row) if row else None


def runs_of(tx: Tx, t: Tables, schedule_id: str, limit: int) -> list[dict[str, Any]]:
    """A schedule's runs, latest period first, each with its outcome and its mails."""
    runs = tx.all(
        f"SELECT * FROM {t['report_runs']} WHERE schedule_id = ? ORDER BY period DESC LIMIT ?",
        (schedule_id, limit),
    )
    mails: dict[str, list[dict[str, Any]]] = {}
    if runs:
        periods = [r["period"] for r in runs]
        for m in tx.all(
            f"SELECT period, recipient, state, error FROM {t['report_run_mails']}"
            f" WHERE schedule_id = ? AND period IN ({','.join('?' * len(periods))})"
            " ORDER BY recipient",
            (schedule_id, *periods),
        ):
            mails.setdefault(m["period"], []).append(
                {"recipient": m["recipient"], "state": m["state"], "error": m["error"]}
            )
    return [_run_shown(r, mails.get(r["period"], [])) for r in runs]


def _run_shown(row: dict[str, Any], mails: list[dict[str, Any]]) -> dict[str, Any]:
    outcome = row["outcome"]
    if outcome == "made":
        states = {m["state"] for m in mails}
        outcome = "failed" if "failed" in states else "sending" if "queued" in states else "sent"
    return {
        "period": row["period"],
        "outcome": outcome,
        "attempts": row["attempts"],
        "error": row["error"],
        "retry_at": row["retry_at"],
        "days": loads(row["days"]) if row["days"] else None,
        "file": loads(row["file"]) if row["file"] else None,
        "mails": mails,
        "updated_at": row["updated_at"],
    }
