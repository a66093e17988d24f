"""The PostgreSQL event recorder: a save is one round trip, and never hangs when it is large.

eventsourcing 9.5's recorder sends each save (LOCK TABLE, NOTIFY, and one INSERT whose
single parameter is an array of a composite type, one element per event) in psycopg's
pipeline mode, and commits in a second round trip. Two things are changed here:

- A save of up to `ONE_TRIP_EVENTS` events (every command's, and a group commit's batch)
  is one simple query: `BEGIN; SET LOCAL lock_timeout; LOCK TABLE; [the head check;]
  SELECT the head; NOTIFY; INSERT ... VALUES ... RETURNING notification_id; COMMIT`, with
  the values bound on the client as literals (each by psycopg's C dumpers). One round trip
  instead of two, one statement for psycopg to run instead of five, and the table lock
  held for one round trip less. A conflict (`IntegrityError`), a lock timeout or a failed
  head check (`LogMoved`) aborts the transaction, which is rolled back before the
  connection goes back to the pool.
- Every save says where it found the log's head under the lock, and may be told where to
  expect it (`LogHead`): a group commit's batch decides on the state the batch before it
  left and no longer reads it again first; its save fails, writing nothing, when another
  writer saved in between.
- Larger saves go in a plain transaction (the same statements), with the events as four
  arrays of plain values. Not the pipeline: psycopg 3.3 leaves its send loop once the last
  command is queued, after one `flush()` that may not have sent everything, and then waits
  only for the socket to become readable: when a save is larger than the socket's send
  buffer, the server waits for the rest of the INSERT (`ClientRead`) while the client waits
  for an answer, for ever, holding the events table's EXCLUSIVE lock. Not the composite
  array either: psycopg writes it as text, escaping every field of every event in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application, project_aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Connection, Cursor, generators
from psycopg.adapt import Transformer
from psycopg.pq import ExecStatus
from psycopg.pq.abc import PGresult
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

# The SQLSTATE of a save that found the log's head moved (see `LogHead`).
LOG_MOVED = "LD409"


class LogMoved(Exception):
    """A save that expected the log's head at a position found it further on (another
    writer saved in between): nothing of it was written."""


@dataclass
class LogHead:
    """What a save is told and learns of the log's head, under the events table's lock.

    `expected`: when set, the save writes nothing and raises `LogMoved` unless the head is
    there (so a group commit may decide a batch on state it kept, without reading it
    again, and find out in the save itself whether anyone wrote since). `seen`: set by the
    save, the head it found before its own events."""

    expected: int | None = None
    seen: int | None = None


# Saves of at most this many events are one round trip (a query of a few KiB per event at
# most); larger ones (imports) a transaction of four statements.
ONE_TRIP_EVENTS = 512
TOPIC = "commands.event_store:LedgerDeskRecorder"


class LedgerDeskRecorder(PostgresApplicationRecorder):
    """The library's recorder, with its save sent as one query (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The one-trip save's statement for each number of events seen (a few dozen).
        self._one_trip_statements: dict[int, list[bytes]] = {}
        self._select_after_statement: bytes | None = None
        self._one_trip_prefix: tuple[bytes, bytes] | None = None
        self._head_statement = SQL(
            "SELECT coalesce(max(notification_id), 0) AS head FROM {0}.{1}"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))

    # No retry: a save whose COMMIT went through but whose answer was lost would, run again,
    # meet its own events (a conflict) and have its commands decided and saved twice. The
    # error goes back to the commands, whose callers see that the write failed.
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events:
            return []
        head: LogHead = kwargs.pop("head", None) or LogHead()
        with self.datastore.get_connection() as conn:
            # (`tracking` is for a process recorder's position: the events table has none.)
            if len(stored_events) <= ONE_TRIP_EVENTS and not any(kwargs.values()):
                return self._insert_in_one_trip(conn, stored_events, head)
            with conn.transaction():
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                with conn.cursor() as curs:
                    self._insert_stored_events(curs, stored_events, head=head, **kwargs)
                    return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _insert_in_one_trip(
        self, conn: Connection[DictRow], stored_events: Sequence[StoredEvent], head: LogHead
    ) -> list[int]:
        # The values bound here, each by psycopg's C literal dumpers, into the statement's
        # pieces (psycopg's own client-side binding splits the statement again on every
        # call once it has more than 50 parameters).
        literal = Transformer(conn).as_literal
        begin, check = self._one_trip_begin(conn)
        pieces = iter(self._one_trip_pieces(len(stored_events), conn))
        query = [begin]
        if head.expected is not None:
            query.append(check.replace(b"%s", b"%d" % head.expected))
        query.append(next(pieces))
        for e in stored_events:
            for value in (e.originator_id, e.originator_version, e.topic, e.state):
                query += (literal(value), next(pieces))
        # (A conflict, a lock timeout or a failed head check aborts the transaction the query
        # began: the pool's connection context rolls it back as the error passes, before the
        # connection is handed back.)
        ids: list[int] = []
        for result in _simple_query(conn, b"".join(query)):
            if result.status != ExecStatus.TUPLES_OK:
                continue
            column = result.fname(0)
            if column == b"head":
                head.seen = int(_value(result, 0))
            elif column == b"notification_id":
                ids = [int(_value(result, row)) for row in range(result.ntuples)]
        if len(ids) != len(stored_events):
            raise psycopg.InternalError(
                f"the save recorded {len(ids)} of {len(stored_events)} events' positions"
            )
        return ids

    def _one_trip_begin(self, conn: Connection[DictRow]) -> tuple[bytes, bytes]:
        """The save's first statements (begin, take the table lock), and the check that the
        log's head is where the save expects it (`%s` stands for the position)."""
        if self._one_trip_prefix is None:
            begin = SQL("; ").join([SQL("BEGIN"), *self.lock_table_statements]).as_bytes(conn)
            check = (
                SQL(
                    "DO $check$BEGIN IF ({0}) <> %s THEN RAISE EXCEPTION 'the log moved on'"
                    " USING ERRCODE = {1}; END IF; END$check$"
                )
                .format(self._head_statement, LOG_MOVED)
                .as_bytes(conn)
            )
            self._one_trip_prefix = (begin + b"; ", check + b"; ")
        return self._one_trip_prefix

    def _one_trip_pieces(self, count: int, conn: Connection[DictRow]) -> list[bytes]:
        """The save's query for `count` events after its first statements (the head under
        the lock, the notification, the insert, the commit), rendered once and split where
        its values go."""
        pieces = self._one_trip_statements.get(count)
        if pieces is None:
            values = SQL(", ").join([SQL("(%s, %s, %s, %s)")] * count)
            statement = SQL("; ").join(
                [
                    self._head_statement,
                    SQL("NOTIFY {0}").format(Identifier(self.channel_name)),
                    SQL(
                        "INSERT INTO {0}.{1} (originator_id, originator_version, topic, state)"
                        " VALUES {2} RETURNING notification_id"
                    ).format(
                        Identifier(self.datastore.schema),
                        Identifier(self.events_table_name),
                        values,
                    ),
                    SQL("COMMIT"),
                ]
            )
            pieces = statement.as_bytes(conn).split(b"%s")
            if len(pieces) != 4 * count + 1:
                raise ValueError(
                    f"the event store's names ({self.datastore.schema}."
                    f"{self.events_table_name}) must not contain '%s'"
                )
            if len(self._one_trip_statements) < 64:
                self._one_trip_statements[count] = pieces
        return pieces

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        head: LogHead | None = None,
        **kwargs: Any,
    ) -> None:
        """The library's statements (lock, notify, insert returning the notification ids),
        with the events as four arrays of plain values, sent in binary; and the log's head
        under the lock, checked against what `head` expects."""
        self._lock_table(curs)
        head = head or LogHead()
        row = curs.execute(self._head_statement).fetchone()
        assert row is not None
        head.seen = row["head"]
        if head.expected is not None and head.seen != head.expected:
            raise LogMoved(f"the log moved on: at {head.seen}, not {head.expected}")
        self._notify_channel(curs)
        statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=SQL(self.datastore.originator_id_type),
        )
        columns = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        curs.execute(statement, columns, prepare=True)

    def select_after(self, versions: dict[UUID, int]) -> tuple[dict[UUID, list[StoredEvent]], int]:
        """The events of each id in `versions` after the version given for it, in version
        order, and the log's head as of the same read (what a group commit's batch needs to
        bring the aggregates it keeps from the batch before up to date, and to know from
        which position on they are current): one query.

        The statement is prepared, and after a few runs PostgreSQL plans it once for any
        values (a generic plan). As a plain join of the ids with the events that plan
        hashes the ids and scans the whole events table — a cost that grows with the log,
        paid by every batch. Each id's events are therefore asked for in a subquery the
        planner may not merge into the join (`OFFSET 0`): one index lookup per id, whatever
        the plan."""
        found: dict[UUID, list[StoredEvent]] = {}
        head = 0
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            if self._select_after_statement is None:
                self._select_after_statement = (
                    SQL(
                        "SELECT NULL::{id_type} AS originator_id,"
                        " coalesce(max(notification_id), 0) AS originator_version,"
                        " NULL AS topic, NULL::bytea AS state FROM {schema}.{table}"
                        " UNION ALL"
                        " SELECT e.originator_id, e.originator_version, e.topic, e.state"
                        " FROM unnest(%b::{id_type}[], %b::bigint[]) AS k(id, after)"
                        " CROSS JOIN LATERAL (SELECT * FROM {schema}.{table} AS x"
                        " WHERE x.originator_id = k.id AND x.originator_version > k.after"
                        " OFFSET 0) AS e"
                        " ORDER BY originator_id NULLS FIRST, originator_version"
                    )
                    .format(
                        schema=Identifier(self.datastore.schema),
                        table=Identifier(self.events_table_name),
                        id_type=SQL(self.datastore.originator_id_type),
                    )
                    .as_bytes(conn)
                )
            params = (list(versions), list(versions.values()))
            curs.execute(self._select_after_statement, params, prepare=True)
            for row in curs.fetchall():
                if row["originator_id"] is None:
                    head = row["originator_version"]
                else:
                    found.setdefault(row["originator_id"], []).append(_stored(row))
        return found, head

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
                    found.setdefault(row["originator_id"], []).append(_stored(row))
        return found


def _simple_query(conn: Connection[DictRow], query: bytes) -> list[PGresult]:
    """Run `query` (several statements, no parameters) in one round trip, as psycopg's
    cursors do for a simple query, and return libpq's results: a cursor would build a row
    maker and check its prepared-statement cache for each of the save's seven results
    (eight with the head check), which cost more than the rest of the save's Python. An
    error is raised as psycopg raises it (a conflict as `UniqueViolation`); a failed head
    check as `LogMoved`; any other result than rows or a command's completion, or none, as
    psycopg's cursors do (`InternalError`)."""
    with conn.lock:
        conn.pgconn.send_query(query)
        results: list[PGresult] = conn.wait(generators.execute(conn.pgconn))
    if not results:
        raise psycopg.InternalError("the save got no result from the server")
    for result in results:
        status = result.status
        if status == ExecStatus.FATAL_ERROR:
            error = psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
            if error.sqlstate == LOG_MOVED:
                raise LogMoved(str(error)) from error
            raise error
        if status not in (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK):
            unexpected = ExecStatus(status).name
            raise psycopg.InternalError(f"unexpected result from the save: {unexpected}")
    return results


def _value(result: PGresult, row: int) -> bytes:
    value = result.get_value(row, 0)
    assert value is not None
    return value


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


def events_after(
    app: Application[UUID], versions: dict[UUID, int]
) -> tuple[dict[UUID, list[StoredEvent]], int | None]:
    """The stored events of each of `versions`' ids after the version given for it, in
    version order (ids with none are left out), and the log's head as of that read: one
    query on PostgreSQL; on SQLite one cheap read each, and no head (None)."""
    recorder = app.recorder
    if isinstance(recorder, LedgerDeskRecorder):
        return recorder.select_after(versions)
    found = ((i, recorder.select_events(i, gt=v)) for i, v in versions.items())
    return {i: list(events) for i, events in found if events}, None


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
