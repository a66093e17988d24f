"""Blobs in the PostgreSQL database the install already uses: any number of API machines
share them, with nothing else to run.

A blob is rows of `blob_chunks` (1 MiB each, in order) and, written last in the same
transaction, its row of `blob_store` (its size and number of chunks): a blob without that row
is not there, so a reader never sees part of one. Each chunk is read in its own short query,
so a download holds no connection or transaction while the client reads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from commands.blobs.base import CHUNK, BlobMissingError, BlobStore

TABLES = (
    """CREATE TABLE blob_store (
        sha256 text PRIMARY KEY,
        size bigint NOT NULL,
        chunks integer NOT NULL,
        stored_at timestamptz NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE blob_chunks (
        sha256 text NOT NULL,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (sha256, seq)
    )""",
    # Attachments are mostly compressed already: stored out of line without trying again.
    "ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL",
)
PAGE = 1000  # hashes listed per query
WAIT_SECONDS = 5.0  # for a connection: longer, and the store is unavailable (try again)


def create_tables(url: str, schema: str) -> None:
    """The blob tables in `schema` (`ledgerdesk migrate` runs this on every PostgreSQL
    install, so that `blobs migrate --to postgres` finds them)."""
    with psycopg.connect(url, options=f"-c search_path={schema}") as conn:
        found = conn.execute("SELECT to_regclass('blob_chunks') IS NOT NULL").fetchone()
        if found is not None and found[0]:
            return  # Made before (and not locked again for an ALTER at every migrate).
        for statement in TABLES:
            conn.execute(statement)


class PostgresBlobStore(BlobStore):
    kind = "postgres"
    transient = (psycopg.OperationalError, PoolTimeout)

    def __init__(self, url: str, schema: str, spool_dir: Path, pool_size: int = 4) -> None:
        super().__init__(spool_dir)
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            timeout=WAIT_SECONDS,
            kwargs={
                "options": f"-c search_path={schema}",
                "application_name": f"ledgerdesk blobs {schema}"[:63],
            },
            open=True,
        )

    def _store(self, sha256: str, size: int, spool: BinaryIO, replace: bool) -> None:
        with self.pool.connection() as conn, conn.transaction():
            if replace:
                conn.execute("DELETE FROM blob_store WHERE sha256 = %s", (sha256,))
                conn.execute("DELETE FROM blob_chunks WHERE sha256 = %s", (sha256,))
            seq = 0
            while chunk := spool.read(CHUNK):
                conn.execute(
                    "INSERT INTO blob_chunks (sha256, seq, data) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    (sha256, seq, chunk),
                )
                seq += 1
            conn.execute(
                "INSERT INTO blob_store (sha256, size, chunks) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (sha256, size, seq),
            )

    def _row(self, sha256: str) -> tuple[int, int]:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT size, chunks FROM blob_store WHERE sha256 = %s", (sha256,)
            ).fetchone()
        if row is None:
            raise BlobMissingError(sha256)
        return int(row[0]), int(row[1])

    def _open(self, sha256: str) -> BinaryIO:
        _, chunks = self._row(sha256)
        return cast(BinaryIO, io.BufferedReader(_Chunks(self.pool, sha256, chunks), CHUNK))

    def _exists(self, sha256: str) -> bool:
        with self.pool.connection() as conn:
            found = conn.execute("SELECT 1 FROM blob_store WHERE sha256 = %s", (sha256,))
            return found.fetchone() is not None

    def _size(self, sha256: str) -> int:
        return self._row(sha256)[0]

    def _shas(self) -> Iterator[str]:
        after = ""
        while True:
            with self.pool.connection() as conn:
                page = conn.execute(
                    "SELECT sha256 FROM blob_store WHERE sha256 > %s ORDER BY sha256 LIMIT %s",
                    (after, PAGE),
                ).fetchall()
            yield from (row[0] for row in page)
            if len(page) < PAGE:
                return
            after = page[-1][0]

    def close(self) -> None:
        self.pool.close()


class _Chunks(io.RawIOBase):
    """A blob's chunks, fetched one query at a time as they are read."""

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]], sha256: str, chunks: int):
        super().__init__()
        self.pool, self.sha256, self.chunks = pool, sha256, chunks
        self.seq = 0
        self.pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.pending:
            if self.seq >= self.chunks:
                return 0
            with self.pool.connection() as conn:
                row = (
                    conn.cursor(binary=True)  # the bytes as they are, not as hex text
                    .execute(
                        "SELECT data FROM blob_chunks WHERE sha256 = %s AND seq = %s",
                        (self.sha256, self.seq),
                    )
                    .fetchone()
                )
            if row is None:
                raise BlobMissingError(self.sha256)
            self.pending = memoryview(bytes(row[0]))
            self.seq += 1
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n
