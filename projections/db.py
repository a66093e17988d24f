"""Where views live: one small interface over SQLite (embedded) and PostgreSQL.

SQL is written once with `?` placeholders and portable syntax (ON CONFLICT
upserts, TEXT JSON documents); the PostgreSQL side swaps the placeholders.
"""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
import threading
import zlib
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

Row = dict[str, Any]
Params = Sequence[Any]


class Tx(ABC):
    """One transaction on the view database."""

    dialect: str

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> None: ...

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...

    @abstractmethod
    def all(self, sql: str, params: Params = ()) -> list[Row]: ...

    @abstractmethod
    def columns(self, table: str) -> set[str]:
        """The column names of `table` (in the current schema)."""

    def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def stream(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """The rows of a SELECT, a batch at a time (memory bounded by the batch, not by the
        table). Another statement may not run in this transaction until it is exhausted."""
        yield from self.all(sql, params)

    @property
    def for_update(self) -> str:
        """Row-lock suffix: SQLite's write transactions are already exclusive."""
        return " FOR UPDATE" if self.dialect == "postgres" else ""

    def row_cache(self, table: str) -> RowCache | None:
        """What this transaction knows of `table`'s rows without reading them: only while a
        new generation is built (`BulkTx`); None here, where every row is read."""
        return None

    # --- rows by key: one statement each here; buffered and merged by a `BulkTx` --------

    def insert_row(self, table: str, row: Mapping[str, Any], key: Sequence[str] = ("id",)) -> None:
        """INSERT one row (`key`: the columns of its primary key)."""
        self.execute(insert_sql(table, tuple(row)), tuple(row.values()))

    def update_row(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """UPDATE the row with primary key `key` (no row: nothing happens)."""
        self.execute(
            update_sql(table, tuple(values), tuple(key)), (*values.values(), *key.values())
        )

    def delete_row(self, table: str, key: Mapping[str, Any]) -> None:
        """DELETE the row with primary key `key`."""
        self.execute(delete_sql(table, tuple(key)), tuple(key.values()))


# The same few statements, for every row a rebuild writes by key.
@functools.lru_cache(maxsize=1024)
def insert_sql(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


@functools.lru_cache(maxsize=1024)
def update_sql(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    assignments = ", ".join(f"{c} = ?" for c in columns)
    return f"UPDATE {table} SET {assignments} WHERE " + " AND ".join(f"{k} = ?" for k in key)


def delete_sql(table: str, key: Sequence[str]) -> str:
    return f"DELETE FROM {table} WHERE " + " AND ".join(f"{k} = ?" for k in key)


class ViewDatabase(ABC):
    dialect: str

    @abstractmethod
    def write(self) -> Any:
        """A context manager yielding a `Tx` that commits on exit (exclusive on SQLite)."""

    @abstractmethod
    def bulk(self) -> Any:
        """Like `write`, but yielding a `BulkTx`: writes are buffered and go out in bulk
        (before any read, and before the commit). For building a new generation."""

    @abstractmethod
    def read(self) -> Any:
        """A context manager yielding a read-only `Tx`."""

    @abstractmethod
    def close(self) -> None: ...


class _SQLiteTx(Tx):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = ()) -> None:
        self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        self.conn.executemany(sql, rows)

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def stream(self, sql: str, params: Params = ()) -> Iterator[Row]:
        cursor = self.conn.execute(sql, params)  # SQLite steps through the rows as asked.
        while batch := cursor.fetchmany(STREAM_BATCH):
            yield from (dict(r) for r in batch)

    def columns(self, table: str) -> set[str]:
        return {r["name"] for r in self.all(f"PRAGMA table_info({table})")}


def _unicode_lower(conn: sqlite3.Connection) -> None:
    """`lower()` for every letter, as PostgreSQL's (SQLite's own knows only ASCII): a
    case-blind search finds `Ärger` by `ärger` on both backends."""
    conn.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@contextmanager
def memory_tx() -> Iterator[Tx]:
    """A `Tx` on a throwaway in-memory SQLite database (a view folded on the fly, e.g. as
    of a past moment, queried with the same SQL as the stored one)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    _unicode_lower(conn)
    try:
        yield _SQLiteTx(conn)
    finally:
        conn.close()


class SQLiteViews(ViewDatabase):
    """Views in an SQLite file beside the event store (WAL: reads never wait on writes)."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=30, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            _unicode_lower(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteTx(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def bulk(self) -> Iterator[BulkTx]:
        with self.write() as tx:
            bulk = BulkTx(tx)
            yield bulk
            bulk.flush()

    @contextmanager
    def read(self) -> Iterator[Tx]:
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            yield _SQLiteTx(conn)
        finally:
            conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


# Rows fetched at a time by `Tx.stream`.
STREAM_BATCH = 2_000
_CURSORS = itertools.count()


def _pg(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


NUL, REPLACEMENT = "\x00", "\ufffd"


def _storable(params: Params) -> Params:
    """PostgreSQL text cannot hold NUL: an event recorded before the API refused it must not
    stop a view, so its NUL shows as U+FFFD (SQLite keeps it as it is)."""
    for param in params:  # A plain loop: this runs for every row a rebuild writes.
        if isinstance(param, str) and NUL in param:
            return [p.replace(NUL, REPLACEMENT) if isinstance(p, str) else p for p in params]
    return params


class _PostgresTx(Tx):
    dialect = "postgres"

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Params = ()) -> None:
        self.conn.execute(_pg(sql), _storable(params))

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_pg(sql), [_storable(row) for row in rows])

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        return self.conn.execute(_pg(sql), _storable(params)).fetchall()

    def stream(self, sql: str, params: Params = ()) -> Iterator[Row]:
        """Through a server-side cursor (not in pipeline mode: `ViewDatabase.bulk`/`read`)."""
        with self.conn.cursor(name=f"stream_{next(_CURSORS)}") as cursor:
            cursor.itersize = STREAM_BATCH
            cursor.execute(_pg(sql), _storable(params))
            yield from cursor

    def columns(self, table: str) -> set[str]:
        rows = self.all(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
        return {r["column_name"] for r in rows}

    def copy(self, table: str, columns: Sequence[str], rows: Sequence[Params]) -> None:
        """Plain INSERTs of many rows, as one COPY (not in pipeline mode)."""
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(_storable(row))

    def pipeline(self) -> AbstractContextManager[Any]:
        """Statements in a batch of round trips (a no-op when already in one)."""
        if self.conn._pipeline is not None:  # psycopg has no public accessor
            return nullcontext()
        return self.conn.pipeline()


class PostgresViews(ViewDatabase):
    """Views in PostgreSQL, in the same schema as the event store."""

    dialect = "postgres"

    def __init__(self, url: str, schema: str, pool_size: int = 10) -> None:
        self.url = url
        self.schema = schema
        # Named in pg_stat_activity, so an operator can tell which install a session is.
        self.application_name = f"ledgerdesk views {schema}"[:63]
        self.pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={
                "row_factory": dict_row,
                "options": f"-c search_path={schema}",
                "application_name": self.application_name,
            },
            open=True,
        )

    @contextmanager
    def _begun(self) -> Iterator[psycopg.Connection[Row]]:
        """A pooled connection with a transaction begun on it. A connection the server
        closed while it sat in the pool (a restart, a failover, an operator's
        `pg_terminate_backend`) fails its `BEGIN`, before anything of the caller's ran: it
        is dropped (the pool replaces a closed connection) and the next one taken, so a
        restarted server costs no reader or writer an error."""
        for attempt in itertools.count():
            with ExitStack() as stack:
                conn = stack.enter_context(self.pool.connection())
                try:
                    stack.enter_context(conn.transaction())
                except psycopg.OperationalError:
                    if not conn.closed or attempt >= self.pool.max_size:
                        raise
                    continue  # (a closed connection is neither committed nor kept)
                yield conn
                return

    @contextmanager
    def write(self) -> Iterator[Tx]:
        # Pipeline mode: a page's statements go out in batches, not one round trip each.
        with self._begun() as conn, conn.pipeline():
            yield _PostgresTx(conn)

    @contextmanager
    def bulk(self) -> Iterator[BulkTx]:
        # No pipeline around the transaction: COPY cannot run in one. The buffered
        # statements between COPYs go out in a pipeline of their own (`BulkTx.flush`).
        with self._begun() as conn:
            bulk = BulkTx(_PostgresTx(conn))
            yield bulk
            bulk.flush()

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._begun() as conn:
            yield _PostgresTx(conn)

    def listen_connection(self) -> psycopg.Connection[Any]:
        """A separate autocommit connection for LISTEN."""
        return psycopg.connect(
            self.url,
            autocommit=True,
            options=f"-c search_path={self.schema}",
            application_name=self.application_name,
        )

    def close(self) -> None:
        self.pool.close()


# --- bulk writes while building a generation ----------------------------------------------

# Rows per table a rebuild keeps in memory instead of reading them back (`RowCache`).
ROW_CACHE_LIMIT = 20_000


class RowCache:
    """Rows one rebuild wrote to one table of its new generation, by key, as the view keeps
    them (a decoded document, a card): the `limit` most recently used. Nobody else writes a
    generation being built, so what this holds is what the table holds, and while nothing
    has been evicted from it (`complete`), a key it lacks is a row the table lacks."""

    def __init__(self, limit: int = ROW_CACHE_LIMIT, complete: bool = True) -> None:
        self.limit = limit
        self.complete = complete
        self._rows: OrderedDict[Any, Any] = OrderedDict()

    def take(
        self, keys: Iterable[Any], new: Container[Any] = ()
    ) -> tuple[dict[Any, Any], list[Any]]:
        """The rows held for `keys`, and the keys (sorted) that must be read: none when
        complete, nor those in `new` (rows this page creates)."""
        found, missing = {}, []
        for key in keys:
            if key in self._rows:
                self._rows.move_to_end(key)
                found[key] = self._rows[key]
            elif not self.complete and key not in new:
                missing.append(key)
        return found, sorted(missing)

    def keep(self, rows: Mapping[Any, Any]) -> None:
        """Rows as written (the most recently used; the least go past `limit`)."""
        for key, value in rows.items():
            self._rows[key] = value
            self._rows.move_to_end(key)
        while len(self._rows) > self.limit:
            self._rows.popitem(last=False)
            self.complete = False

    def forget(self, keys: Iterable[Any]) -> None:
        """Rows deleted (their keys are then absent, as in the table)."""
        for key in keys:
            self._rows.pop(key, None)


class RowCaches:
    """One rebuild's `RowCache` per table (by its generation's name). `reset` after a
    failed page: its rows may be half applied, and the tables are read afresh."""

    def __init__(self, limit: int | None = None, complete: bool = True) -> None:
        self.limit = limit or ROW_CACHE_LIMIT
        self.complete = complete
        self.tables: dict[str, RowCache] = {}

    def of(self, table: str) -> RowCache:
        cache = self.tables.get(table)
        if cache is None:
            cache = self.tables[table] = RowCache(self.limit, self.complete)
        return cache

    def reset(self) -> None:
        self.tables.clear()
        self.complete = False


def cached_rows(
    tx: Tx,
    table: str,
    keys: Iterable[Any],
    fetch: Callable[[list[Any]], Mapping[Any, Any]],
    new: Container[Any] = (),
) -> dict[Any, Any]:
    """The rows of `table` with `keys`, as a view keeps them: `fetch(keys)` reads them
    (chunked as it likes); while a rebuild builds the table, only those it does not hold
    and that are not `new` are read. A view that uses this must `keep` what it writes
    (`Tx.row_cache`)."""
    cache = tx.row_cache(table)
    if cache is None:
        return dict(fetch(sorted(keys)))
    found, missing = cache.take(keys, new)
    if missing:
        found.update(fetch(missing))
    return found


# A plain INSERT (no ON CONFLICT, no SELECT): on PostgreSQL its rows can go as one COPY.
_PLAIN_INSERT = re.compile(r"INSERT INTO (\w+) \(([\w, ]+)\) VALUES \([?, ]+\)")
# Buffered rows past which a `BulkTx` writes out before the page ends (bounded memory).
BULK_ROW_LIMIT = 50_000
Key = tuple[tuple[str, ...], tuple[Any, ...]]


@dataclass
class _Statements:
    sql: str
    rows: list[Params]


@dataclass
class _Open:
    """One table's keyed writes since it was last sealed: new rows (later updates merged into
    them) and updates of rows that were there before (merged per key)."""

    inserts: dict[Key, tuple[tuple[str, ...], dict[str, Any]]] = field(default_factory=dict)
    updates: dict[Key, dict[str, Any]] = field(default_factory=dict)


class BulkTx(Tx):
    """A write transaction whose writes are buffered and go out in bulk: consecutive
    identical statements as one `executemany`, plain INSERTs as `COPY` on PostgreSQL.

    Every read (`all`, `one`, `columns`) first writes out what is buffered, so a handler
    that reads its own writes sees them. Rows written by key (`insert_row`, `update_row`,
    `delete_row`) are kept per table until a statement that is not by key, or a read, seals
    them: an update of a row inserted in the same batch is merged into it, and updates of
    one older row into one; the table's rows then go out as a few bulk statements, its
    inserts before its updates. For a view whose writes are right (each insert of a new
    key, each update of an existing row) the rows are the same as the one-statement-per-
    write path's (`Tx`), in fewer statements. Two differences for a view at fault, or one
    that keyed writes do not suit: an update that frees a value of a secondary UNIQUE key
    which a later insert of the same page takes fails in bulk (the insert goes first), and
    an insert of a key already in the table that the same page then deletes is not caught
    (the buffered insert is just dropped). Such a view writes with plain statements."""

    def __init__(
        self, inner: Tx, limit: int = BULK_ROW_LIMIT, caches: RowCaches | None = None
    ) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.limit = limit
        # Set by a rebuild: the rows it keeps from page to page (`row_cache`).
        self.caches = caches
        self._ops: list[_Statements] = []
        self._open: dict[str, _Open] = {}
        self._buffered = 0

    # --- statements -------------------------------------------------------------------

    def execute(self, sql: str, params: Params = ()) -> None:
        self._seal_all()
        self._append(sql, [params])

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        if not rows:
            return
        self._seal_all()
        self._append(sql, list(rows))

    def all(self, sql: str, params: Params = ()) -> list[Row]:
        self.flush()
        return self.inner.all(sql, params)

    def stream(self, sql: str, params: Params = ()) -> Iterator[Row]:
        self.flush()
        return self.inner.stream(sql, params)

    def columns(self, table: str) -> set[str]:
        self.flush()
        return self.inner.columns(table)

    def row_cache(self, table: str) -> RowCache | None:
        return None if self.caches is None else self.caches.of(table)

    # --- rows by key ------------------------------------------------------------------

    def insert_row(self, table: str, row: Mapping[str, Any], key: Sequence[str] = ("id",)) -> None:
        names = tuple(key)
        k = (names, tuple(row[c] for c in names))
        open_ = self._open.get(table)
        if open_ is not None and (k in open_.inserts or k in open_.updates):
            self._seal(table)  # Its earlier write goes first (or fails as it would have).
            open_ = None
        if open_ is None:
            open_ = self._open[table] = _Open()
        open_.inserts[k] = (tuple(row), dict(row))
        self._count(1)

    def update_row(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        k = (tuple(key), tuple(key.values()))
        open_ = self._open.setdefault(table, _Open())
        if k in open_.inserts:
            columns, row = open_.inserts[k]
            if values.keys() <= set(columns) and not values.keys() & set(k[0]):
                row.update(values)
                return
        elif not values.keys() & set(k[0]):
            open_.updates.setdefault(k, {}).update(values)
            self._count(1)
            return
        self._seal(table)
        super().update_row(table, key, values)

    def delete_row(self, table: str, key: Mapping[str, Any]) -> None:
        k = (tuple(key), tuple(key.values()))
        open_ = self._open.get(table)
        if open_ is not None and k in open_.inserts:
            # New in this batch, so not in the table (its key is the primary key): gone.
            del open_.inserts[k]
            return
        if open_ is not None:
            open_.updates.pop(k, None)
            self._seal(table)
        super().delete_row(table, key)

    # --- writing out ------------------------------------------------------------------

    def flush(self) -> None:
        """Write out everything buffered (in order)."""
        self._seal_all()
        ops, self._ops, self._buffered = self._ops, [], 0
        inner = self.inner
        if not isinstance(inner, _PostgresTx):
            self._run(ops)
            return
        batch: list[_Statements] = []
        for op in ops:
            plain = _PLAIN_INSERT.fullmatch(op.sql)
            if plain is None:
                batch.append(op)
                continue
            self._run(batch)
            batch = []
            inner.copy(plain.group(1), [c.strip() for c in plain.group(2).split(",")], op.rows)
        self._run(batch)

    def _run(self, ops: list[_Statements]) -> None:
        if not ops:
            return
        batch = self.inner.pipeline() if isinstance(self.inner, _PostgresTx) else nullcontext()
        with batch:
            for op in ops:
                if len(op.rows) == 1:
                    self.inner.execute(op.sql, op.rows[0])
                else:
                    self.inner.executemany(op.sql, op.rows)

    def _append(self, sql: str, rows: list[Params]) -> None:
        if self._ops and self._ops[-1].sql == sql:
            self._ops[-1].rows.extend(rows)
        else:
            self._ops.append(_Statements(sql, rows))
        self._count(len(rows))

    def _count(self, rows: int) -> None:
        self._buffered += rows
        if self._buffered >= self.limit:
            self.flush()

    def _seal(self, table: str) -> None:
        """Turn a table's keyed writes into statements, in bulk."""
        open_ = self._open.pop(table, None)
        if open_ is None:
            return
        for columns, row in open_.inserts.values():
            # `row` has exactly `columns`, in order: updates merge only into its columns.
            self._place(insert_sql(table, columns), tuple(row.values()))
        for (names, values), changes in open_.updates.items():
            columns = tuple(sorted(changes))
            sql = update_sql(table, columns, names)
            self._place(sql, (*(changes[c] for c in columns), *values))

    def _place(self, sql: str, row: Params) -> None:
        if self._ops and self._ops[-1].sql == sql:
            self._ops[-1].rows.append(row)
        else:
            self._ops.append(_Statements(sql, [row]))

    def _seal_all(self) -> None:
        for table in list(self._open):
            self._seal(table)


def open_views(dsn: str, schema: str = "public", pool_size: int = 10) -> ViewDatabase:
    """Open the view database named by `dsn` (sqlite:///path or postgresql://...)."""
    if dsn.startswith("sqlite:///"):
        return SQLiteViews(Path(dsn.removeprefix("sqlite:///")))
    return PostgresViews(dsn, schema, pool_size)


class AdvisoryClaims:
    """Work only one process may do at a time (following a view, relaying the outbox):
    PostgreSQL advisory locks, held on one connection while the work goes on.

    On SQLite (one process) every claim is granted.
    """

    def __init__(self, db: ViewDatabase, kind: str) -> None:
        self.db = db
        self.kind = kind
        self.conn: psycopg.Connection[Any] | None = None
        self.held: set[str] = set()

    def claim(self, name: str) -> bool:
        if not isinstance(self.db, PostgresViews) or name in self.held:
            return True
        if self.conn is None:
            self.conn = self.db.listen_connection()
        # Scoped to the schema: two installs may share one database.
        key = zlib.crc32(f"ledgerdesk-{self.kind}:{self.db.schema}:{name}".encode())
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if row and row[0]:
            self.held.add(name)
            return True
        return False

    def release(self) -> None:
        if self.conn is not None:
            with suppress(psycopg.Error):
                # Unlock before closing: a closed connection's backend may hold its locks
                # for a moment, and another process's claim in that moment would fail.
                self.conn.execute("SELECT pg_advisory_unlock_all()")
                self.conn.close()
        self.conn = None
        self.held.clear()

    def reset(self) -> None:
        """Forget every claim (its connection may be gone) and claim afresh."""
        self.release()

    def check(self) -> None:
        """Forget the claims if their connection is gone: the server has released the locks
        with it, and another process may hold them now."""
        if self.conn is None:
            return
        try:
            self.conn.execute("SELECT 1")
        except psycopg.Error:
            self.reset()


def listen(db: ViewDatabase, channel: str, stop: threading.Event, wake: threading.Event) -> None:
    """Set `wake` on every PostgreSQL NOTIFY on `channel` (the event store's inserts, from any
    process) until `stop`; reconnect when the database goes away."""
    listen_payloads(db, (channel,), stop, lambda _channel, _payload: wake.set())


def listen_payloads(
    db: ViewDatabase,
    channels: Sequence[str],
    stop: threading.Event,
    heard: Callable[[str, str], None],
    connected: Callable[[], None] = lambda: None,
) -> None:
    """Call `heard(channel, payload)` for every PostgreSQL NOTIFY on `channels`, from any
    process, until `stop`; reconnect when the database goes away (then `connected()`, as
    after the first LISTEN: what was sent while nobody listened is lost, and the caller
    reads what it may have missed)."""
    assert isinstance(db, PostgresViews)
    while not stop.is_set():
        try:
            with db.listen_connection() as conn:
                for channel in channels:
                    conn.execute(f'LISTEN "{channel}"')
                connected()
                while not stop.is_set():
                    for notify in conn.notifies(timeout=0.5, stop_after=1):
                        heard(notify.channel, notify.payload)
        except psycopg.OperationalError:
            stop.wait(1.0)
