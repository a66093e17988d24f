"""The PostgreSQL event recorder, with large saves sent without psycopg's pipeline mode.

eventsourcing 9.5's recorder sends each save (LOCK TABLE, NOTIFY, and one INSERT whose
single parameter is an array of every event) in psycopg's pipeline mode. psycopg 3.3 leaves
its send loop once the last command is queued, after one `flush()` that may not have sent
everything, and then waits only for the socket to become readable: when a save is larger
than the socket's send buffer (a few MiB at most, often far less), the server waits for the
rest of the INSERT (`ClientRead`) while the client waits for an answer, for ever, holding
the events table's EXCLUSIVE lock, so every other writer waits behind it. Small saves (every
command's) keep the library's pipelined path; larger ones are sent the plain way, where
psycopg flushes the whole query before it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError
from psycopg.sql import SQL, Composed, Identifier

# Far below the smallest default socket send buffer (16 KiB on Linux): a pipelined save of
# this size is flushed whole.
PIPELINE_MAX_BYTES = 8 * 1024
TOPIC = "commands.event_store:LedgerDeskRecorder"
# The library's own save, without its retry wrapper (ours wraps both paths once).
_PIPELINED = PostgresApplicationRecorder.insert_events.__wrapped__


class LedgerDeskRecorder(PostgresApplicationRecorder):
    """The library's recorder, but a save of more than `PIPELINE_MAX_BYTES` of event state
    is one plain transaction (the same statements, the same lock, the same NOTIFY)."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        size = sum(len(e.state) + len(e.topic) for e in stored_events)
        if size <= PIPELINE_MAX_BYTES or self.datastore.enable_db_functions:
            return _PIPELINED(self, stored_events, **kwargs)  # type: ignore[no-any-return]
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor() as curs:
                self._insert_events(curs, stored_events, **kwargs)
            with conn.cursor() as curs:
                self._insert_stored_events(curs, stored_events, **kwargs)
                return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def existing(self, ids: Sequence[Any]) -> set[Any]:
        """Which of `ids` have any stored event (one query per 5,000)."""
        found: set[Any] = set()
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            for start in range(0, len(ids), 5_000):
                curs.execute(self._existing_statement, (list(ids[start : start + 5_000]),))
                found.update(row["originator_id"] for row in curs.fetchall())
        return found

    @property
    def _existing_statement(self) -> Composed:
        return SQL(
            "SELECT DISTINCT originator_id FROM {schema}.{table} WHERE originator_id = ANY(%s)"
            " AND originator_version = 1"
        ).format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
        )


def existing(recorder: Any, ids: Sequence[Any]) -> set[Any]:
    """Which of the aggregates `ids` exist: in bulk on PostgreSQL (where a query each costs a
    round trip), one cheap read each elsewhere."""
    if isinstance(recorder, LedgerDeskRecorder):
        return recorder.existing(ids)
    return {i for i in ids if recorder.select_events(i, limit=1)}
