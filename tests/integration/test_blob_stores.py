"""Every blob store keeps the same promises, on real storage: files on disk, rows of the real
PostgreSQL, objects on an S3-compatible server over HTTP. And `blobs migrate` copies every
blob from one to another, verified, resumably."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import psycopg
import pytest

from commands.blobs import (
    CHUNK,
    BlobHashMismatchError,
    BlobMissingError,
    BlobStore,
    BlobStoreConfigError,
    BlobStoreUnavailableError,
    LocalBlobStore,
)
from commands.blobs.migrate import migrate_blobs
from commands.blobs.postgres import create_tables
from commands.blobs.s3 import PART
from commands.errors import AttachmentTooLargeError
from ledgerdesk import bootstrap, cli
from ledgerdesk.settings import Settings
from tests.conftest import PG_URL, make_settings
from tests.s3_server import S3Server, s3_server

STORES = ["local", "postgres", "s3"]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


def _settings(kind: str, tmp_path: Path, schema: str, s3: S3Server) -> Settings:
    """An install's settings with its blobs in `kind` (a PostgreSQL install throughout)."""
    base = make_settings("postgres", tmp_path, schema)
    create_tables(PG_URL, schema)
    spec = {"local": "local", "postgres": "postgres", "s3": f"s3://{s3.bucket}/{schema}"}[kind]
    return base.model_copy(update={"blob_store": spec, "s3_endpoint_url": s3.endpoint_url})


@pytest.fixture(params=STORES)
def store(
    request: pytest.FixtureRequest, tmp_path: Path, pg_schema: str, s3: S3Server
) -> Iterator[BlobStore]:
    opened = bootstrap.blob_store(_settings(request.param, tmp_path, pg_schema, s3))
    assert opened.kind == request.param
    yield opened
    opened.close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_blob_comes_back_byte_for_byte_and_the_same_bytes_are_kept_once(
    store: BlobStore,
) -> None:
    data = os.urandom(CHUNK * 3 + 12345)  # several chunks and a part of one
    sha, size = store.put(io.BytesIO(data), limit=len(data))
    again, _ = store.put(io.BytesIO(data), limit=len(data))
    assert (sha, size, again) == (_sha(data), len(data), sha)
    assert store.exists(sha)
    assert store.size(sha) == len(data)
    assert store.read_bytes(sha) == data
    pieces = list(store.chunks(sha, 64 * 1024))
    assert b"".join(pieces) == data
    assert max(map(len, pieces)) <= 64 * 1024
    assert store.hash_of(sha) == sha
    assert list(store.shas()) == [sha]


def test_an_empty_blob_and_many_blobs_are_listed_once_each(store: BlobStore) -> None:
    contents = [b""] + [f"blob {n}".encode() for n in range(5)]
    shas = {store.put(io.BytesIO(data), limit=100)[0] for data in contents}
    assert sorted(store.shas()) == sorted(shas)
    assert store.read_bytes(_sha(b"")) == b""


def test_more_than_the_limit_is_refused_and_nothing_is_kept(
    store: BlobStore, tmp_path: Path
) -> None:
    with pytest.raises(AttachmentTooLargeError):
        store.put(io.BytesIO(b"x" * 1001), limit=1000)
    assert list(store.shas()) == []
    assert not any(store.spool_dir.glob(".upload-*"))  # no temporary file left behind


def test_a_missing_blob_is_missing_everywhere(store: BlobStore) -> None:
    sha = _sha(b"never stored")
    assert not store.exists(sha)
    with pytest.raises(BlobMissingError):
        store.open(sha)
    with pytest.raises(BlobMissingError):
        store.size(sha)


def test_bytes_under_a_hash_that_is_not_theirs_are_refused(store: BlobStore) -> None:
    with pytest.raises(BlobHashMismatchError):
        store.put_as(_sha(b"the real bytes"), io.BytesIO(b"other bytes"))
    assert list(store.shas()) == []
    assert store.put_as(_sha(b"the real bytes"), io.BytesIO(b"the real bytes")) == 14


def test_postgres_keeps_a_blob_as_chunk_rows_written_with_its_row(
    tmp_path: Path, pg_schema: str, s3: S3Server
) -> None:
    store = bootstrap.blob_store(_settings("postgres", tmp_path, pg_schema, s3))
    data = os.urandom(CHUNK * 2 + 1)
    sha, _ = store.put(io.BytesIO(data), limit=len(data))
    store.close()
    with psycopg.connect(PG_URL, options=f"-c search_path={pg_schema}") as conn:
        chunks = conn.execute("SELECT seq, length(data) FROM blob_chunks ORDER BY seq").fetchall()
        row = conn.execute("SELECT size, chunks FROM blob_store WHERE sha256 = %s", (sha,))
        assert row.fetchone() == (len(data), 3)
    assert chunks == [(0, CHUNK), (1, CHUNK), (2, 1)]


# --- choosing a store -------------------------------------------------------------------


def test_an_unknown_store_or_postgres_blobs_without_postgres_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown blob store 'ftp://x'"):
        Settings(data_dir=tmp_path, blob_store="ftp://x")
    with pytest.raises(ValueError, match="LEDGERDESK_DATABASE_URL"):
        Settings(data_dir=tmp_path, database_url=None, blob_store="postgres")
    assert Settings(data_dir=tmp_path, blob_store=" s3://bucket/some/prefix ").blob_store == (
        "s3://bucket/some/prefix"
    )
    with pytest.raises(BlobStoreConfigError):
        bootstrap.blob_store(Settings(data_dir=tmp_path), "postgres")


# --- migrating ----------------------------------------------------------------------------


def _fill(store: BlobStore, count: int) -> set[str]:
    return {store.put(io.BytesIO(os.urandom(1000 + n)), limit=10_000)[0] for n in range(count)}


def test_every_blob_moves_local_to_postgres_to_s3_and_back_verified(
    tmp_path: Path, pg_schema: str, s3: S3Server
) -> None:
    local = bootstrap.blob_store(_settings("local", tmp_path, pg_schema, s3))
    shas = _fill(local, 4) | {local.put(io.BytesIO(os.urandom(CHUNK + 7)), CHUNK * 2)[0]}
    shared = [_settings(kind, tmp_path, pg_schema, s3) for kind in ("postgres", "s3")]
    chain = [local] + [bootstrap.blob_store(settings) for settings in shared]
    chain.append(LocalBlobStore(tmp_path / "elsewhere"))
    for source, target in itertools.pairwise(chain):
        done = migrate_blobs(source, target)
        assert (done.copied, done.present, done.failed) == (5, 0, []), (source.kind, target.kind)
        assert set(target.shas()) == shas
    assert all(chain[-1].read_bytes(sha) == local.read_bytes(sha) for sha in shas)
    for store in chain:
        store.close()


def test_a_migration_run_again_copies_only_what_is_missing(
    tmp_path: Path, pg_schema: str, s3: S3Server
) -> None:
    source = bootstrap.blob_store(_settings("local", tmp_path, pg_schema, s3))
    target = bootstrap.blob_store(_settings("postgres", tmp_path, pg_schema, s3))
    shas = sorted(_fill(source, 3))
    with source.open(shas[0]) as reader:  # as if a first run stopped after one blob
        target.put_as(shas[0], reader)
    done = migrate_blobs(source, target)
    assert (done.copied, done.present, done.mended, done.failed) == (2, 1, 0, [])
    again = migrate_blobs(source, target)
    assert (again.copied, again.present, again.mended, again.failed) == (0, 3, 0, [])
    target.close()


@pytest.mark.parametrize("kind", ["postgres", "s3"])
def test_a_damaged_copy_in_the_target_is_found_and_copied_again(
    kind: str, tmp_path: Path, pg_schema: str, s3: S3Server
) -> None:
    source = LocalBlobStore(tmp_path / "blobs")
    target = bootstrap.blob_store(_settings(kind, tmp_path, pg_schema, s3))
    (sha,) = _fill(source, 1)
    size = source.size(sha)
    damaged = b"x" * size  # the right size, the wrong bytes: as a copy cut short and padded
    if kind == "postgres":
        with psycopg.connect(PG_URL, options=f"-c search_path={pg_schema}") as conn:
            conn.execute("INSERT INTO blob_chunks VALUES (%s, 0, %s)", (sha, damaged))
            conn.execute("INSERT INTO blob_store (sha256, size, chunks) VALUES (%s, %s, 1)",
                         (sha, size))  # fmt: skip
    else:
        boto3.client("s3", endpoint_url=s3.endpoint_url).put_object(
            Bucket=s3.bucket,
            Key=target.key(sha),
            Body=damaged,  # type: ignore[attr-defined]
        )
    assert target.hash_of(sha) != sha
    done = migrate_blobs(source, target)
    assert (done.copied, done.present, done.mended, done.failed) == (0, 0, 1, [])
    assert target.hash_of(sha) == sha
    assert migrate_blobs(source, target).present == 1
    target.close()


def test_a_store_that_does_not_answer_is_unavailable_not_missing(tmp_path: Path) -> None:
    dead = Settings(
        data_dir=tmp_path, blob_store="s3://nowhere/x", s3_endpoint_url="http://127.0.0.1:1"
    )
    store = bootstrap.blob_store(dead)
    store.client.meta.config.retries = {"max_attempts": 1}  # type: ignore[attr-defined]
    sha = _sha(b"a file")
    for attempt in (
        lambda: store.exists(sha),
        lambda: store.open(sha),
        lambda: store.put(io.BytesIO(b"a file"), 100),
        lambda: list(store.shas()),
    ):
        with pytest.raises(BlobStoreUnavailableError, match="the s3 blob store"):
            attempt()
    # and a migration to it reports each blob, and goes on
    source = LocalBlobStore(tmp_path / "blobs")
    _fill(source, 2)
    done = migrate_blobs(source, store)
    assert len(done.failed) == 2


def test_concurrent_uploads_of_the_same_bytes_keep_one_blob(store: BlobStore) -> None:
    data = os.urandom(CHUNK + 99)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: store.put(io.BytesIO(data), len(data)), range(8)))
    assert {sha for sha, _ in results} == {_sha(data)}
    assert list(store.shas()) == [_sha(data)]
    assert store.read_bytes(_sha(data)) == data


def test_s3_takes_a_large_file_in_parts(tmp_path: Path, pg_schema: str, s3: S3Server) -> None:
    store = bootstrap.blob_store(_settings("s3", tmp_path, pg_schema, s3))
    data = os.urandom(PART + 1234)  # over the part size: a multipart upload
    sha, size = store.put(io.BytesIO(data), len(data))
    assert size == len(data)
    head = boto3.client("s3", endpoint_url=s3.endpoint_url).head_object(
        Bucket=s3.bucket,
        Key=store.key(sha),  # type: ignore[attr-defined]
    )
    assert head["ETag"].strip('"').endswith("-2")  # S3 names a multipart object's parts
    assert store.hash_of(sha) == sha


def test_a_damaged_source_blob_is_reported_not_copied(
    tmp_path: Path, pg_schema: str, s3: S3Server
) -> None:
    source = LocalBlobStore(tmp_path / "blobs")
    target = bootstrap.blob_store(_settings("s3", tmp_path, pg_schema, s3))
    shas = sorted(_fill(source, 3))
    source.path(shas[1]).write_bytes(b"bit rot")
    done = migrate_blobs(source, target)
    assert done.copied == 2
    assert [sha for sha, _ in done.failed] == [shas[1]]
    assert "hash" in done.failed[0][1]
    assert set(target.shas()) == {shas[0], shas[2]}
    target.close()


def test_the_command_line_migrates_and_says_what_to_set(
    tmp_path: Path, pg_schema: str, s3: S3Server, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    settings = _settings("local", tmp_path, pg_schema, s3)
    shas = _fill(bootstrap.blob_store(settings), 3)
    for name, value in {
        "LEDGERDESK_DATA_DIR": str(settings.data_dir),
        "LEDGERDESK_DATABASE_URL": PG_URL,
        "LEDGERDESK_DATABASE_SCHEMA": pg_schema,
        "LEDGERDESK_BLOB_STORE": "local",
    }.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["blobs", "migrate", "--to", "postgres", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 blobs copied" in out
    assert "set LEDGERDESK_BLOB_STORE=postgres" in out
    assert cli.main(["blobs", "migrate", "--to", "postgres", "--quiet"]) == 0
    assert "0 blobs copied" in capsys.readouterr().out
    monkeypatch.setenv("LEDGERDESK_BLOB_STORE", "postgres")
    moved = bootstrap.blob_store(Settings())
    assert set(moved.shas()) == shas
    moved.close()
    assert cli.main(["blobs", "migrate", "--to", "postgres"]) == 2
    assert "already in postgres" in capsys.readouterr().err
    assert cli.main(["blobs", "migrate", "--to", "gopher://x"]) == 2
    assert "unknown blob store 'gopher://x'" in capsys.readouterr().err
    assert cli.main(["blobs", "migrate", "--to", " "]) == 2
    assert "--to names a store" in capsys.readouterr().err


def test_the_command_line_refuses_postgres_blobs_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEDGERDESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LEDGERDESK_DATABASE_URL", raising=False)
    assert cli.main(["blobs", "migrate", "--to", "postgres"]) == 2
    assert "LEDGERDESK_DATABASE_URL" in capsys.readouterr().err


def test_tables_come_with_migrate_on_postgres(tmp_path: Path, pg_schema: str) -> None:
    bootstrap.migrate(make_settings("postgres", tmp_path, pg_schema))
    with psycopg.connect(PG_URL) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (pg_schema,),
        ).fetchall()
    assert {("blob_store",), ("blob_chunks",)} <= set(tables)
