"""Import jobs view: reads ImportJob events; shows each job (`import_jobs`): what file, whose,
its state, how far it has got, and its outcome (the result, or the problem), for
`GET /imports/{job}` and the workers' tick (jobs queued, or running with no sign of life)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from domain.import_jobs import HOLD, ImportJob
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

QUEUED_FOR = timedelta(minutes=1)  # a queued job not started this long is asked for again


def _queued(e: Any) -> dict[str, Any]:
    return {
        "id": str(e.originator_id), "kind": e.kind, "requested_by": e.requested_by,
        "file_name": e.file_name, "file_size": e.file_size, "state": "queued",
        "stage": None, "done": 0, "total": None, "attempts": 0, "result": None,
        "problem": None, "created_at": iso(e.timestamp), "started_at": None,
        "alive_at": None, "finished_at": None,
    }  # fmt: skip


def _moment(text: str) -> str:
    return iso(datetime.fromisoformat(text))


def _changes(name: str, e: Any, row: dict[str, Any]) -> dict[str, Any]:
    at = iso(e.timestamp)
    if name == "Started":  # (Alive as of the worker's clock: its hold is measured by it.)
        return {"state": "running", "attempts": row["attempts"] + 1, "started_at": at,
                "alive_at": _moment(e.at), "stage": None, "done": 0, "total": None}  # fmt: skip
    if name == "Progressed":
        return {"stage": e.stage, "done": e.done, "total": e.total, "alive_at": _moment(e.at)}
    if name == "Released":  # (Stopped by a shutdown: queued again.)
        return {"state": "queued", "alive_at": None}
    if name == "Succeeded":
        return {"state": "succeeded", "result": dumps(e.result), "finished_at": at,
                "stage": "done", "done": e.done, "total": e.total}  # fmt: skip
    if name == "Failed":
        return {"state": "failed", "problem": dumps(e.problem), "finished_at": at}
    return {}


class ImportJobsProjection(Projection):
    """Reads ImportJob events; shows each job with its progress and outcome."""

    name = "import_jobs"
    tables = ("import_jobs",)
    topics = topics_of(ImportJob)
    schema_version = 1

    def create(self, tx: Tx, t: Tables) -> None:
        jobs = t["import_jobs"]
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {jobs} ("
            " id TEXT PRIMARY KEY, kind TEXT NOT NULL, requested_by TEXT NOT NULL,"
            " file_name TEXT NOT NULL, file_size BIGINT NOT NULL, state TEXT NOT NULL,"
            " stage TEXT, done BIGINT NOT NULL, total BIGINT, attempts INTEGER NOT NULL,"
            " result TEXT, problem TEXT, created_at TEXT NOT NULL, started_at TEXT,"
            " alive_at TEXT, finished_at TEXT, version INTEGER NOT NULL,"
            " updated_at TEXT NOT NULL)"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {jobs}_state ON {jobs} (state, alive_at)")

    def key_columns(self, base: str) -> str:
        return "id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        jobs = t["import_jobs"]
        for p in events:
            e = p.event
            name = topic_name(e).partition(".")[2]
            stamp = {"version": e.originator_version, "updated_at": iso(e.timestamp)}
            if name == "Queued":
                tx.insert_row(jobs, {**_queued(e), **stamp})
                continue
            row = tx.one(f"SELECT * FROM {jobs} WHERE id = ?", (str(e.originator_id),))
            if row is not None:
                tx.update_row(jobs, {"id": row["id"]}, {**_changes(name, e, row), **stamp})


# --- reads ---------------------------------------------------------------------------


def job_document(row: dict[str, Any]) -> dict[str, Any]:
    """A job as `GET /imports/{job}` shows it."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "state": row["state"],
        "progress": {"stage": row["stage"], "done": row["done"], "total": row["total"]},
        "file": {"name": row["file_name"], "size": row["file_size"]},
        "attempts": row["attempts"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "result": loads(row["result"]) if row["result"] else None,
        "problem": loads(row["problem"]) if row["problem"] else None,
        "version": row["version"],
    }


def find_job(tx: Tx, t: Tables, job_id: str) -> dict[str, Any] | None:
    return tx.one(f"SELECT * FROM {t['import_jobs']} WHERE id = ?", (job_id,))


def jobs_to_run(tx: Tx, t: Tables, now: datetime) -> list[str]:
    """Jobs queued for a while (their first message lost, or released by a shutdown), or
    running with no sign of life for `HOLD` (a worker that died)."""
    rows = tx.all(
        f"SELECT id FROM {t['import_jobs']} WHERE (state = 'queued' AND updated_at <= ?)"
        " OR (state = 'running' AND alive_at <= ?) ORDER BY created_at, id",
        (iso(now - QUEUED_FOR), iso(now - HOLD)),
    )
    return [row["id"] for row in rows]
