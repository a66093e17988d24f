"""Blob stores: uploading and downloading attachments through each backend (`local`,
`postgres`, `s3://…`), beside the raw cost of moving the same bytes the plainest way.

ledgerdesk: `BlobStore.put` of each file from a stream (spooled to a temporary file while
hashed, then kept: renamed into place on disk, 1 MiB rows in one transaction on PostgreSQL,
one upload to S3), then `BlobStore.chunks` read to the end. Raw: the same bytes written to a
file and fsync'd; one `INSERT` of the bytes into a bytea column; one S3 `PUT` — and read back
by one read, one `SELECT`, one `GET`.

The S3 server is moto in server mode, in its own process on loopback (nothing to install):
its figures measure that server as much as us, and the ratio is what to read."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import psycopg

from bench.common import (
    PG_URL,
    Figure,
    pg_schema,
    pg_settings,
    say,
    scratch_dir,
    show,
    wait_for_port,
)
from bench.http_api import _free_port
from commands.blobs import BlobStore
from commands.blobs.postgres import create_tables
from ledgerdesk import bootstrap

FILES, SIZE = 16, 8 * 1024 * 1024  # 128 MiB in all
SMOKE_FILES, SMOKE_SIZE = 2, 256 * 1024
ROUNDS = 3  # each figure is the best round (ours and raw take turns going first)
BUCKET = "ledgerdesk-bench"
AWS = {
    "AWS_ACCESS_KEY_ID": "ledgerdesk-bench",
    "AWS_SECRET_ACCESS_KEY": "ledgerdesk-bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def s3_process() -> Iterator[str]:
    """moto's S3 server in a process of its own; yields its endpoint URL."""
    for name, value in AWS.items():
        os.environ.setdefault(name, value)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, server, "the S3 test server")
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _ours(store: BlobStore, files: list[bytes]) -> tuple[float, float]:
    shas: list[str] = []

    def upload() -> None:
        shas.extend(store.put(io.BytesIO(data), len(data))[0] for data in files)

    def download() -> None:
        for sha in shas:
            for _ in store.chunks(sha):
                pass

    return _timed(upload), _timed(download)


def _raw_local(root: Path, files: list[bytes]) -> tuple[float, float]:
    root.mkdir(parents=True, exist_ok=True)

    def upload() -> None:
        for n, data in enumerate(files):
            with (root / str(n)).open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())

    def download() -> None:
        for n in range(len(files)):
            (root / str(n)).read_bytes()

    return _timed(upload), _timed(download)


def _raw_postgres(schema: str, files: list[bytes]) -> tuple[float, float]:
    with psycopg.connect(PG_URL, autocommit=True, options=f"-c search_path={schema}") as conn:
        conn.execute("DROP TABLE IF EXISTS raw_blobs")
        conn.execute("CREATE TABLE raw_blobs (n integer PRIMARY KEY, data bytea NOT NULL)")
        conn.execute("ALTER TABLE raw_blobs ALTER COLUMN data SET STORAGE EXTERNAL")

        def upload() -> None:
            for n, data in enumerate(files):
                conn.execute("INSERT INTO raw_blobs VALUES (%s, %s)", (n, data))

        def download() -> None:
            for n in range(len(files)):
                conn.execute("SELECT data FROM raw_blobs WHERE n = %s", (n,)).fetchone()

        return _timed(upload), _timed(download)


def _raw_s3(endpoint: str, files: list[bytes]) -> tuple[float, float]:
    client = boto3.client("s3", endpoint_url=endpoint)

    def upload() -> None:
        for n, data in enumerate(files):
            client.put_object(Bucket=BUCKET, Key=f"raw/{n}", Body=data)

    def download() -> None:
        for n in range(len(files)):
            client.get_object(Bucket=BUCKET, Key=f"raw/{n}")["Body"].read()

    return _timed(upload), _timed(download)


def run(smoke: bool = False) -> list[Figure]:
    count, size = (SMOKE_FILES, SMOKE_SIZE) if smoke else (FILES, SIZE)
    files = [os.urandom(size) for _ in range(count)]
    mib = count * size / 2**20
    label = f"{count} files of {size // 1024:,} KiB"
    figures: list[Figure] = []
    with scratch_dir() as data, pg_schema() as schema, s3_process() as endpoint:
        create_tables(PG_URL, schema)
        base = pg_settings(schema, data).model_copy(update={"s3_endpoint_url": endpoint})
        raws: dict[str, tuple[Callable[[], tuple[float, float]], str, str]] = {
            "local": (lambda: _raw_local(data / "raw", files), "write + fsync", "read"),
            "postgres": (lambda: _raw_postgres(schema, files), "one INSERT", "one SELECT"),
            "s3": (lambda: _raw_s3(endpoint, files), "one S3 PUT", "one S3 GET"),
        }
        for kind, spec in (
            ("local", "local"),
            ("postgres", "postgres"),
            ("s3", f"s3://{BUCKET}/b"),
        ):
            say(f"blobs: {label} through {kind} ...")
            store = bootstrap.blob_store(base.model_copy(update={"blob_store": spec}))
            measure, raw_up_name, raw_down_name = raws[kind]
            rounds: list[tuple[float, float]] = []
            raw_rounds: list[tuple[float, float]] = []
            try:
                for n in range(ROUNDS):
                    # New bytes each round: the same bytes would be kept once and not again.
                    files[:] = [n.to_bytes(2, "big") + data[2:] for data in files]
                    if n % 2:
                        rounds.append(_ours(store, files))
                        raw_rounds.append(measure())
                    else:
                        raw_rounds.append(measure())
                        rounds.append(_ours(store, files))
            finally:
                store.close()
            up, down = min(r[0] for r in rounds), min(r[1] for r in rounds)
            raw_up, raw_down = min(r[0] for r in raw_rounds), min(r[1] for r in raw_rounds)
            for what, ours, raw, twin in (
                ("upload", up, raw_up, raw_up_name),
                ("download", down, raw_down, raw_down_name),
            ):
                figures.append(
                    Figure(
                        f"blob {what}, {kind}",
                        mib / ours,
                        "MiB/s",
                        mib / raw,
                        f"{twin} per file",
                        note=f"{label}; best of {ROUNDS}: {ours:.2f} s against {raw:.2f} s",
                    )
                )
                show(figures[-1])
    return figures
