"""Where views live: one small interface over SQLite (embedded) and PostgreSQL.

SQL is written once with `?` placeholders and portable syntax (ON CONFLICT
upserts, TEXT JSON documents); the PostgreSQL side swaps the placeholders.
"""

from __future__ import annotations

import sqlite3
import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
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

    @property
    def for_update(self) -> str:
        """Row-lock suffix: SQLite's write transactions are already exclusive."""
        return " FOR UPDATE" if self.dialect == "postgres" else ""


class ViewDatabase(ABC):
    dialect: str

    @abstractmethod
    def write(self) -> Any:
        """A context manager yielding a `Tx` that commits on exit (exclusive on SQLite)."""

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

    def columns(self, table: str) -> set[str]:
        return {r["name"] for r in self.all(f"PRAGMA table_info({table})")}


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


def _pg(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


NUL, REPLACEMENT = "\x00", "\ufffd"


def _storable(params: Params) -> Params:
    """PostgreSQL text cannot hold NUL: an event recorded before the API refused it must not
    stop a view, so its NUL shows as U+FFFD (SQLite keeps it as it is)."""
    if not any(isinstance(p, str) and NUL in p for p in params):
        return params
    return [p.replace(NUL, REPLACEMENT) if isinstance(p, str) else p for p in params]


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

    def columns(self, table: str) -> set[str]:
        rows = self.all(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?",
            (table,),
        )
        return {r["column_name"] for r in rows}


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
    def write(self) -> Iterator[Tx]:
        # Pipeline mode: a page's statements go out in batches, not one round trip each.
        with self.pool.connection() as conn, conn.transaction(), conn.pipeline():
            yield _PostgresTx(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.pool.connection() as conn, conn.transaction():
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
    assert isinstance(db, PostgresViews)
    while not stop.is_set():
        try:
            with db.listen_connection() as conn:
                conn.execute(f'LISTEN "{channel}"')
                while not stop.is_set():
                    for _ in conn.notifies(timeout=0.5, stop_after=1):
                        wake.set()
        except psycopg.OperationalError:
            stop.wait(1.0)
