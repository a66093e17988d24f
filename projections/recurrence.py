"""Recurring series view: reads a task's recurrence events; shows which series are active
(`recurring_series`), so the scheduled worker knows which ones to ask for due occurrences.

The view only says where to look: whether an occurrence is due, and that it is created
once, is decided by the series' template task in the write model.
"""

from __future__ import annotations

from collections.abc import Sequence

from projections.base import Positioned, Projection, Tables, dumps, topic_name
from projections.db import Tx

READS = ("Task.RecurrenceSet", "Task.RecurrenceStopped", "Task.OccurrenceCreated")


class RecurringSeriesProjection(Projection):
    """Reads Task recurrence events; one row per series (`recurring_series`)."""

    name = "recurring_series"
    tables = ("recurring_series",)
    topics = frozenset(f"ledgerdesk:{name}" for name in READS)

    def create(self, tx: Tx, t: Tables) -> None:
        tx.execute(
            f"CREATE TABLE IF NOT EXISTS {t['recurring_series']} ("
            " series_id TEXT PRIMARY KEY, active INTEGER NOT NULL, rule TEXT,"
            " last_occurrence TEXT)"
        )
        tx.execute(
            f"CREATE INDEX IF NOT EXISTS {t['recurring_series']}_active"
            f" ON {t['recurring_series']} (active, series_id)"
        )

    def key_columns(self, base: str) -> str:
        return "series_id"

    def apply(self, tx: Tx, t: Tables, events: Sequence[Positioned]) -> None:
        table = t["recurring_series"]
        for p in events:
            e, name = p.event, topic_name(p.event)
            series = str(e.originator_id)
            if name == "Task.RecurrenceSet":
                tx.execute(
                    f"INSERT INTO {table} (series_id, active, rule) VALUES (?, 1, ?)"
                    " ON CONFLICT (series_id) DO UPDATE SET active = 1, rule = excluded.rule",
                    (series, dumps(e.rule)),
                )
            elif name == "Task.RecurrenceStopped":
                tx.execute(f"UPDATE {table} SET active = 0 WHERE series_id = ?", (series,))
            else:
                tx.execute(
                    f"UPDATE {table} SET last_occurrence = ? WHERE series_id = ?",
                    (e.occurrence_date, series),
                )


def active_series(tx: Tx, t: Tables) -> list[str]:
    """The ids of the template tasks of every active series."""
    rows = tx.all(
        f"SELECT series_id FROM {t['recurring_series']} WHERE active = 1 ORDER BY series_id"
    )
    return [row["series_id"] for row in rows]
