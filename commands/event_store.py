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
from uuid import UUID

from eventsourcing.application import Application, project_aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError
from psycopg.sql import SQL, Identifier

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

    def select_many(self, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """Every stored event of each of `ids` that has any, in version order (one query
        per 2,000 ids)."""
        found: dict[UUID, list[StoredEvent]] = {}
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table}"
            " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            for start in range(0, len(ids), 2_000):
                curs.execute(statement, (list(ids[start : start + 2_000]),))
                for row in curs.fetchall():
                    found.setdefault(row["originator_id"], []).append(
                        StoredEvent(
                            originator_id=row["originator_id"],
                            originator_version=row["originator_version"],
                            topic=row["topic"],
                            state=bytes(row["state"]),
                        )
                    )
        return found


def load_many(app: Application[UUID], ids: Sequence[UUID]) -> dict[UUID, Any]:
    """The aggregates among `ids` that exist, each from all its events (no snapshots: for
    small aggregates such as timesheet entries). In bulk on PostgreSQL, where a query each
    costs a round trip; one cheap read each on SQLite."""
    recorder = app.recorder
    if isinstance(recorder, LedgerDeskRecorder):
        stored = recorder.select_many(ids)
    else:
        stored = {i: list(events) for i in ids if (events := recorder.select_events(i))}
    return {
        i: project_aggregate(None, [app.mapper.to_domain_event(e) for e in events])
        for i, events in stored.items()
    }
