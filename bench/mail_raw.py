"""The mail benchmark's raw baseline: the cheapest server that does the same I/O per message.

An aiosmtpd server (the library ledgerdesk's receiver uses) in its own process, whose DATA
hook, in a worker thread as ledgerdesk's is, writes the message's bytes to a file named by
their SHA-256 (fsync'd and renamed into place, as `commands.blobs.LocalBlobStore` does) and
inserts one row per message, one commit each: SQLite in WAL mode or PostgreSQL in
autocommit. `python -m bench.mail_raw --port P --dir D (--sqlite FILE | --schema S)` runs
it until SIGTERM; `bench.mail` starts it with `raw_server`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.common import PG_URL, REPO, wait_for_port


class RawStore:
    """The bytes to a file named by their SHA-256, then one row, one commit."""

    def __init__(self, root: Path, connect: Callable[[], Any], placeholder: str) -> None:
        self.root = root
        self.connect = connect
        self.sql = (
            "INSERT INTO raw_mail (sha256, size, sender, recipient)"
            f" VALUES ({', '.join([placeholder] * 4)})"
        )
        self._local = threading.local()

    def store(self, raw: bytes, sender: str, recipient: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, aside = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
        sha256 = hashlib.sha256(raw).hexdigest()
        target = self.root / sha256[:2] / sha256[2:4] / sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(aside, target)
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.connect()
        conn.execute(self.sql, (sha256, len(raw), sender, recipient))


def raw_store(root: Path, sqlite: Path | None, schema: str | None) -> RawStore:
    """A RawStore over a `raw_mail` table (made if missing): in SQLite (WAL), else in a
    PostgreSQL schema."""
    columns = "sha256 TEXT NOT NULL, size INTEGER NOT NULL, sender TEXT, recipient TEXT"
    if sqlite is not None:

        def lite() -> sqlite3.Connection:
            conn = sqlite3.connect(sqlite, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            return conn

        with lite() as setup:
            setup.execute(
                f"CREATE TABLE IF NOT EXISTS raw_mail (id INTEGER PRIMARY KEY, {columns},"
                " received_at TEXT DEFAULT CURRENT_TIMESTAMP)"
            )
        return RawStore(root, lite, "?")

    def pg() -> psycopg.Connection[Any]:
        return psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={schema}")

    with pg() as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS raw_mail (id BIGSERIAL PRIMARY KEY, {columns},"
            " received_at TIMESTAMPTZ DEFAULT now())"
        )
    return RawStore(root, pg, "%s")


class RawHandler:
    """aiosmtpd's DATA hook over a RawStore."""

    def __init__(self, store: RawStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        await asyncio.to_thread(self.store.store, content, envelope.mail_from or "", recipient)
        return "250 2.0.0 stored"


@contextmanager
def raw_server(scratch: Path, port: int, schema: str | None) -> Iterator[None]:
    """The raw server in its own process on 127.0.0.1:`port`, storing under `scratch` (and
    in `schema` on PostgreSQL, else in an SQLite file there), until the block ends."""
    where = ["--schema", schema] if schema else ["--sqlite", str(scratch / "raw.sqlite3")]
    log = scratch / "raw-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "bench.mail_raw", "--port", str(port)),
                *("--dir", str(scratch / "raw"), *where),
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_for_port(port, proc, "the raw server")
        except RuntimeError as failed:
            raise RuntimeError(f"{failed}:\n{log.read_text()}") from None
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mail_raw", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True, help="where the files go")
    parser.add_argument("--sqlite", type=Path, help="the SQLite file (else --schema)")
    parser.add_argument("--schema", help="the PostgreSQL schema (LEDGERDESK_BENCH_DATABASE_URL)")
    args = parser.parse_args(argv)
    if (args.sqlite is None) == (args.schema is None):
        parser.error("give one of --sqlite and --schema")
    store = raw_store(args.dir / "blobs", args.sqlite, args.schema)
    controller = Controller(RawHandler(store), hostname="127.0.0.1", port=args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller.start()
    print(f"raw mail server on 127.0.0.1:{args.port}", flush=True)
    while not stop.wait(0.5):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
