"""The backup and restore drill, with the commands docs/operations.md documents: an install
with tickets and their files, tasks, timesheets and a portal contact is backed up while it
runs, restored into a fresh database (or data directory) and a fresh blob store, and then
`ledgerdesk replay --verify` passes, every view equals the original's, and every file
downloads as it was."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from tests.conftest import PG_URL, make_settings
from tests.e2e.conftest import ROOT, env_for, run_cli
from tests.factories import admin_token, open_ticket

pytestmark = pytest.mark.slow
FILES = {"invoice.pdf": b"%PDF-1.4 an invoice\n" * 300, "trace.log": bytes(range(256)) * 40}


def seed(c: bootstrap.Container) -> dict[str, Any]:
    """A realistic little install, through the API; what to find again after the restore."""
    with TestClient(c.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {admin_token(c)}"
        files = {}
        for n, (name, data) in enumerate(FILES.items()):
            number = http.post("/api/v1/tickets", json={"title": f"Ticket {n}"}).json()["number"]
            sent = http.post(f"/api/v1/tickets/{number}/attachments", files={"file": (name, data)})
            assert sent.status_code == 201, sent.text
            files[name] = (number, sent.json()["attachments"][0]["id"])
        task = http.post(
            "/api/v1/tasks", json={"title": "Plan", "start": "2026-12-01", "duration_days": 3}
        ).json()["number"]
        logged = http.post(
            "/api/v1/timesheets", json={"item": task, "date": "2026-12-02", "hours": "1.5"}
        )
        assert logged.status_code == 201, logged.text
        org = http.post("/api/v1/customers", json={"name": "Acme"}).json()["id"]
        contact = http.post(
            "/api/v1/contacts", json={"email": "ada@acme.example", "organisation_id": org}
        )
        assert contact.status_code == 201, contact.text
        invited = http.post(f"/api/v1/contacts/{contact.json()['id']}/portal-invitations")
        assert invited.status_code == 201, invited.text
    assert c.runner.wait_for(c.app.head(), list(c.runner.projections), 30)
    return files


def downloads(c: bootstrap.Container, files: dict[str, Any], who: str) -> dict[str, bytes]:
    with TestClient(c.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {admin_token(c, who)}"
        return {
            name: http.get(f"/api/v1/tickets/{number}/attachments/{attachment}").content
            for name, (number, attachment) in files.items()
        }


def replay_verifies(restored: Settings) -> None:
    verified = run_cli(restored, "replay", "--verify", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def files_download(restored: Settings, files: dict[str, Any], before: dict[str, bytes]) -> None:
    """Every file downloads from the restored install as it did before (after the views are
    compared: this registers one more user)."""
    again = bootstrap.build(restored)
    again.follow()
    try:
        assert downloads(again, files, "restorer@example.com") == before == FILES
    finally:
        again.close()


def sh(command: str) -> None:
    """One documented command, run by the shell as an operator would."""
    tool = command.split()[0]
    assert shutil.which(tool), f"{tool} is missing: apt-get install postgresql-client sqlite3 rsync"
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"


def pg_tables(url: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the install's schema, its rows sorted."""
    with psycopg.connect(url) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        return {
            name: sorted(map(repr, conn.execute(f'SELECT * FROM "{schema}"."{name}"')))
            for name in names
        }


def sqlite_tables(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}


@contextmanager
def fresh(server_url: str) -> Iterator[str]:
    """A new, empty database on the test server (dropped after): its URL."""
    name = f"restored_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield server_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def fresh_database() -> Iterator[str]:
    with fresh(PG_URL) as url:
        yield url


def test_postgresql_backup_restores_into_a_fresh_database_and_blob_store(
    tmp_path: Path, pg_schema: str, fresh_database: str
) -> None:
    original = make_settings("postgres", tmp_path / "original", pg_schema)
    bootstrap.migrate(original)
    c = bootstrap.build(original)
    c.follow()
    try:
        files = seed(c)
        before = downloads(c, files, "auditor@example.com")
        assert c.runner.wait_for(c.app.head(), list(c.runner.projections), 30)
        backup = tmp_path / "backup"
        backup.mkdir()
        # The documented backup, taken while the install runs:
        sh(
            f"pg_dump --schema={pg_schema} --format=custom --file={backup}/ledgerdesk.dump"
            f" '{PG_URL}'"
        )
        sh(f"rsync -a {original.data_dir}/blobs/ {backup}/blobs/")
        sh(f"cp {original.data_dir}/secret.key {backup}/")
        tables = pg_tables(PG_URL, pg_schema)
    finally:
        c.close()

    # The documented restore, into an empty database and an empty data directory:
    restored = Settings(
        data_dir=tmp_path / "restored" / "var",
        database_url=fresh_database,
        database_schema=pg_schema,
        read_wait_seconds=15,
    )
    restored.data_dir.mkdir(parents=True)
    sh(f"pg_restore --dbname='{fresh_database}' {backup}/ledgerdesk.dump")
    sh(f"rsync -a {backup}/blobs/ {restored.data_dir}/blobs/")
    sh(f"cp {backup}/secret.key {restored.data_dir}/")
    replay_verifies(restored)
    assert pg_tables(fresh_database, pg_schema) == tables
    files_download(restored, files, before)


def test_sqlite_backup_restores_into_a_fresh_data_directory(tmp_path: Path) -> None:
    original = make_settings("sqlite", tmp_path / "original")
    bootstrap.migrate(original)
    c = bootstrap.build(original)
    c.follow()
    var, backup = original.data_dir, tmp_path / "backup"
    backup.mkdir()
    try:
        files = seed(c)
        before = downloads(c, files, "auditor@example.com")
        assert c.runner.wait_for(c.app.head(), list(c.runner.projections), 30)
        # The documented backup, taken while the install runs (views, then events, then blobs):
        sh(f"sqlite3 {var}/views.sqlite3 \".backup '{backup}/views.sqlite3'\"")
        sh(f"sqlite3 {var}/events.sqlite3 \".backup '{backup}/events.sqlite3'\"")
        sh(f"rsync -a {var}/blobs/ {backup}/blobs/")
        sh(f"cp {var}/secret.key {backup}/")
        tables = sqlite_tables(var / "views.sqlite3")
    finally:
        c.close()

    restored = make_settings("sqlite", tmp_path / "restored")
    restored.data_dir.mkdir(parents=True)
    for name in ("views.sqlite3", "events.sqlite3", "secret.key"):
        sh(f"cp {backup}/{name} {restored.data_dir}/")
    sh(f"rsync -a {backup}/blobs/ {restored.data_dir}/blobs/")
    replay_verifies(restored)
    assert sqlite_tables(restored.data_dir / "views.sqlite3") == tables
    files_download(restored, files, before)


def ledgerdesk_cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ledgerdesk ARGS` against `settings`' store, with `env` (LEDGERDESK_* names) besides."""
    return subprocess.run(
        [sys.executable, "-m", "ledgerdesk", *args],
        env={**env_for(settings), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(("kept", "into"), [("local", "postgres"), ("postgres", "local")])
def test_backup_and_restore_commands_on_postgresql_into_another_blob_store(
    kept: str, into: str, tmp_path: Path, pg_schema: str, fresh_database: str
) -> None:
    original = make_settings("postgres", tmp_path / "original", pg_schema).model_copy(
        update={"blob_store": kept}
    )
    bootstrap.migrate(original)
    c = bootstrap.build(original)
    c.follow()
    try:
        files = seed(c)
        before = downloads(c, files, "auditor@example.com")
        backup = tmp_path / "backup"
        made = ledgerdesk_cli(original, "backup", str(backup), LEDGERDESK_BLOB_STORE=kept)
        assert made.returncode == 0, made.stderr  # taken while it runs
        assert "backed up into" in made.stdout
        tables = pg_tables(PG_URL, pg_schema)
        again = ledgerdesk_cli(original, "backup", str(backup), LEDGERDESK_BLOB_STORE=kept)
        assert again.returncode == 2
        assert "is not an empty directory" in again.stderr
    finally:
        c.close()
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"] == "postgres"
    assert manifest["schema"] == pg_schema
    assert manifest["blob_store"] == kept
    assert manifest["blobs"] == len(FILES)
    assert (backup / "blobs").exists() == (kept == "local")  # else the dump holds them
    assert oct(backup.stat().st_mode & 0o777) == "0o700"
    assert oct((backup / "secret.key").stat().st_mode & 0o777) == "0o600"

    # Restored into an empty database, with the files in the other store this time
    restored = Settings(
        data_dir=tmp_path / "restored" / "var",
        database_url=fresh_database,
        database_schema=pg_schema,
        read_wait_seconds=15,
        blob_store=into,
    )
    back = ledgerdesk_cli(restored, "restore", str(backup), LEDGERDESK_BLOB_STORE=into)
    assert back.returncode == 0, back.stdout + back.stderr
    assert f"restored the postgres database and {len(FILES)} blobs" in back.stdout
    assert "put back secret.key" in back.stdout
    assert "differences" not in back.stdout
    blob_tables = {"blob_store": [], "blob_chunks": []}
    assert pg_tables(fresh_database, pg_schema) | blob_tables == tables | blob_tables
    files_download(restored, files, before)
    on_disk = (restored.data_dir / "blobs").exists()
    assert on_disk == (into == "local")

    # Never over an install: a second restore is refused, and writes nothing
    twice = ledgerdesk_cli(restored, "restore", str(backup), LEDGERDESK_BLOB_STORE=into)
    assert twice.returncode == 2
    assert "already holds" in twice.stderr
    assert "Traceback" not in twice.stderr


def test_backup_and_restore_commands_on_sqlite(tmp_path: Path) -> None:
    original = make_settings("sqlite", tmp_path / "original")
    bootstrap.migrate(original)
    c = bootstrap.build(original)
    c.follow()
    backup = tmp_path / "backup"
    try:
        files = seed(c)
        before = downloads(c, files, "auditor@example.com")
        made = ledgerdesk_cli(original, "backup", str(backup), "--quiet")  # while it runs
        assert made.returncode == 0, made.stderr
        tables = sqlite_tables(original.data_dir / "views.sqlite3")
    finally:
        c.close()
    assert sorted(p.name for p in backup.iterdir()) == [
        "blobs", "events.sqlite3", "manifest.json", "secret.key", "vapid.pem", "views.sqlite3",
    ]  # fmt: skip

    restored = make_settings("sqlite", tmp_path / "restored")
    back = ledgerdesk_cli(restored, "restore", str(backup))
    assert back.returncode == 0, back.stdout + back.stderr
    assert "restored the sqlite database" in back.stdout
    assert sqlite_tables(restored.data_dir / "views.sqlite3") == tables
    files_download(restored, files, before)

    # A data directory with keys of its own is refused before anything is written
    elsewhere = make_settings("sqlite", tmp_path / "elsewhere")
    elsewhere.data_dir.mkdir(parents=True)
    (elsewhere.data_dir / "secret.key").write_text("another install's key")
    refused = ledgerdesk_cli(elsewhere, "restore", str(backup))
    assert refused.returncode == 2
    assert "is not the backup's secret.key" in refused.stderr
    assert sorted(p.name for p in elsewhere.data_dir.iterdir()) == ["secret.key"]

    # --files-only finishes a restore (here: nothing is missing), never starts one
    finished = ledgerdesk_cli(restored, "restore", str(backup), "--files-only")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"restored {len(FILES)} blobs" in finished.stdout
    early = ledgerdesk_cli(make_settings("sqlite", tmp_path / "early"), "restore", str(backup),
                           "--files-only")  # fmt: skip
    assert early.returncode == 2
    assert "run a whole restore first" in early.stderr

    # A backup without its log is refused before anything is written
    partial = tmp_path / "partial"
    shutil.copytree(backup, partial)
    (partial / "events.sqlite3").unlink()
    empty = make_settings("sqlite", tmp_path / "empty")
    lacking = ledgerdesk_cli(empty, "restore", str(partial))
    assert lacking.returncode == 2
    assert "lacks events.sqlite3" in lacking.stderr
    assert not empty.data_dir.exists() or not any(empty.data_dir.iterdir())

    nothing = ledgerdesk_cli(restored, "restore", str(tmp_path / "nowhere"))
    assert nothing.returncode == 2
    assert "manifest.json" in nothing.stderr
    over = ledgerdesk_cli(restored, "restore", str(backup))
    assert over.returncode == 2
    assert "already holds views.sqlite3, events.sqlite3" in over.stderr


def test_an_install_in_the_public_schema_restores_into_a_fresh_database(
    tmp_path: Path, fresh_database: str
) -> None:
    """The default schema: a fresh database has `public` already, so the restore leaves the
    dump's `CREATE SCHEMA public` out (pg_restore would fail on it)."""
    with fresh(PG_URL) as source_url:
        original = Settings(data_dir=tmp_path / "original", database_url=source_url)
        bootstrap.migrate(original)
        c = bootstrap.build(original)
        try:
            number = open_ticket(c, title="Kept in public")
        finally:
            c.close()
        made = ledgerdesk_cli(original, "backup", str(tmp_path / "backup"), "--quiet")
        assert made.returncode == 0, made.stderr
    restored = Settings(data_dir=tmp_path / "restored", database_url=fresh_database)
    back = ledgerdesk_cli(restored, "restore", str(tmp_path / "backup"))
    assert back.returncode == 0, back.stdout + back.stderr
    again = bootstrap.build(restored)
    try:
        assert again.commands.app.repository.get(item_id(number)).title == "Kept in public"
    finally:
        again.close()
