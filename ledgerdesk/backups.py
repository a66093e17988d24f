"""`ledgerdesk backup DIR` and `ledgerdesk restore DIR`: the documented steps, as one command
each, on SQLite and on PostgreSQL, whatever the blob store.

A backup directory holds the database (`database.dump` from `pg_dump`, or `events.sqlite3`
and `views.sqlite3` copied online by SQLite's backup API), the blobs under `blobs/` (each
copied and hashed again; none with the `postgres` store: the dump holds them), the data
directory's secrets (`secret.key`, `vapid.pem`) where they are kept there, and
`manifest.json`, written last: a directory without it is not a whole backup.

The copies are taken while the install runs, in the order that makes each cover what the
one before references: views, then events, then blobs (blobs are written before the events
that name them). `restore` puts them back into an empty database (or data directory) and
the configured blob store (any kind: a backup from local files restores into S3), then
checks every view against the log (`replay --verify`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from commands.blobs import BlobStore
from commands.blobs.migrate import Migration, migrate_blobs
from ledgerdesk import bootstrap
from ledgerdesk.cli_common import CliError
from ledgerdesk.settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1
DUMP = "database.dump"
SQLITE_FILES = ("views.sqlite3", "events.sqlite3")  # in the order they are copied
SECRETS = ("secret.key", "vapid.pem")
INSTALL_CLIENT = "apt-get install postgresql-client (the version of the server, or newer)"


@dataclass(frozen=True)
class Summary:
    database: str
    blobs: int
    blob_bytes: int
    secrets: tuple[str, ...]
    warning: str | None = None


def backup(settings: Settings, target: Path, tell: Callable[[Migration], None]) -> Summary:
    """Back the install up into `target` (missing or empty)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CliError(f"{target} is not an empty directory: back up into a new one")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)  # customers' data: for the install's user only
    if settings.is_postgres:
        _run(settings, "pg_dump", "--format=custom", f"--schema={settings.database_schema}",
             f"--file={target / DUMP}")  # fmt: skip
        database = "postgres"
    else:
        for name in SQLITE_FILES:
            _sqlite_copy(settings.data_dir / name, target / name)
        database = "sqlite"
    copied = Migration()
    if settings.blob_store != "postgres":
        with _store(settings) as source, _local(settings, target) as kept:
            copied = migrate_blobs(source, kept, tell)
        _no_failures(copied, "backed up")
        blobs = copied.copied + copied.present + copied.mended
    else:  # the dump holds them
        with _store(settings) as source:
            blobs = sum(1 for _ in source.shas())
    kept_secrets = tuple(n for n in SECRETS if (settings.data_dir / n).exists())
    for name in kept_secrets:
        shutil.copy2(settings.data_dir / name, target / name)
        os.chmod(target / name, 0o600)
    shutil.rmtree(target / "spool", ignore_errors=True)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database,
        "schema": settings.database_schema if settings.is_postgres else None,
        "blob_store": settings.blob_store,
        "blobs": blobs,
        "secrets": list(kept_secrets),
    }
    aside = target / f".{MANIFEST}.partial"
    aside.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(aside, target / MANIFEST)  # last, and whole: its presence marks a whole backup
    empty = settings.blob_store == "local" and blobs == 0
    warning = (
        f"no files under {settings.blob_dir}: if this install has attachments, back up on the"
        " machine whose LEDGERDESK_DATA_DIR holds them"
        if empty
        else None
    )
    return Summary(database, blobs, copied.copied_bytes, kept_secrets, warning)


def restore(
    settings: Settings, source: Path, tell: Callable[[Migration], None], files_only: bool = False
) -> Summary:
    """Put the backup in `source` back into the configured, empty install: the checks
    first (nothing is written if one fails), then the secrets (so that an install started
    too early never makes keys of its own), the database in one transaction (or in files
    renamed into place), the blobs, and `migrate`. With `files_only`, only the blobs: what
    finishes a restore whose blob copy failed."""
    manifest = _manifest(source)
    if settings.is_postgres != (manifest["database"] == "postgres"):
        raise CliError(
            f"this backup is of a {manifest['database']} install; LEDGERDESK_DATABASE_URL"
            f" {'is' if settings.is_postgres else 'is not'} set: restore into the same kind"
        )
    put_back: list[str] = []
    _require_same_secrets(settings, source, manifest)
    if files_only:
        _require_restored(settings)
    else:
        _require_whole(settings, source)
        exists = _require_empty(settings, manifest)
        toc = _without_schema(settings, source / DUMP) if exists else None
        put_back = _put_back_secrets(settings, source, manifest)
        if settings.is_postgres:
            _pg_restore(settings, source / DUMP, toc)
        else:
            _sqlite_restore(settings, source)
    restored = _restore_blobs(settings, source, manifest, tell)
    bootstrap.migrate(settings)  # a backup of an older release: its tables are upgraded
    return Summary(
        str(manifest["database"]),
        restored.copied + restored.present + restored.mended,
        restored.copied_bytes,
        tuple(put_back),
    )


def _require_whole(settings: Settings, source: Path) -> None:
    """The backup holds its database (never a views file alone, or no dump)."""
    needed = [DUMP] if settings.is_postgres else list(SQLITE_FILES)
    missing = [n for n in needed if not (source / n).is_file()]
    if missing:
        raise CliError(f"{source} lacks {', '.join(missing)}: it is not a whole backup")


def _require_restored(settings: Settings) -> None:
    """`--files-only` finishes a restore: its database must be there already."""
    if settings.is_postgres:
        restored = _objects_in_schema(settings) > 0
    else:
        restored = all((settings.data_dir / n).exists() for n in SQLITE_FILES)
    if not restored:
        raise CliError(
            "--files-only finishes a restore whose files failed: run a whole restore first"
        )


def _require_empty(settings: Settings, manifest: dict[str, Any]) -> bool:
    """Refuse to restore over an install; whether the (empty) schema exists already."""
    if not settings.is_postgres:
        present = [n for n in SQLITE_FILES if (settings.data_dir / n).exists()]
        if present:
            raise CliError(
                f"{settings.data_dir} already holds {', '.join(present)}: restore into an"
                " empty data directory (LEDGERDESK_DATA_DIR)"
            )
        return False
    if manifest["schema"] != settings.database_schema:
        raise CliError(
            f"the backup holds schema {manifest['schema']!r}: set"
            f" LEDGERDESK_DATABASE_SCHEMA={manifest['schema']} to restore it"
        )
    return _empty_schema_exists(settings)


def _require_same_secrets(settings: Settings, source: Path, manifest: dict[str, Any]) -> None:
    for name in manifest["secrets"]:
        here = settings.data_dir / name
        if here.exists() and here.read_bytes() != (source / name).read_bytes():
            raise CliError(
                f"{here} is not the backup's {name}: what the backup signed or subscribed"
                " with needs the backup's. Move it away, then restore again"
            )


def _put_back_secrets(settings: Settings, source: Path, manifest: dict[str, Any]) -> list[str]:
    put_back = []
    for name in manifest["secrets"]:
        if not (settings.data_dir / name).exists():
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            aside = settings.data_dir / f".{name}.restoring"
            shutil.copyfile(source / name, aside)
            os.chmod(aside, 0o600)
            os.replace(aside, settings.data_dir / name)
            put_back.append(name)
    return put_back


def _pg_restore(settings: Settings, dump: Path, toc: str | None) -> None:
    """The dump, in one transaction: all of it or nothing (a failed restore can be run
    again). Owners and grants are the restoring user's: the roles of the backed-up server
    need not exist here."""
    with tempfile.TemporaryDirectory() as scratch:
        listed = []
        if toc is not None:  # public, in a fresh database: there already
            listed_file = Path(scratch) / "restore.list"
            listed_file.write_text(toc)
            listed = [f"--use-list={listed_file}"]
        _run(settings, "pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
             "--no-privileges", *listed, str(dump))  # fmt: skip


def _sqlite_restore(settings: Settings, source: Path) -> None:
    """Each file copied aside, then all renamed into place (never half a pair)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    names = [n for n in SQLITE_FILES if (source / n).exists()]
    for name in names:
        aside = settings.data_dir / f".{name}.restoring"
        aside.unlink(missing_ok=True)  # left by a copy that failed
        _sqlite_copy(source / name, aside)
    for name in names:
        os.replace(settings.data_dir / f".{name}.restoring", settings.data_dir / name)


def _restore_blobs(
    settings: Settings, source: Path, manifest: dict[str, Any], tell: Callable[[Migration], None]
) -> Migration:
    """The backup's blobs into the configured store: from its `blobs/`, or (a backup of the
    `postgres` store restored into another) from the restored database's tables."""
    if (source / "blobs").exists():
        origin = _local(settings, source)
    elif manifest["blob_store"] == "postgres" and settings.blob_store != "postgres":
        origin = _store(settings.model_copy(update={"blob_store": "postgres"}))
    else:
        return Migration()  # in the dump, and staying there
    with origin as kept, _store(settings) as target:
        done = migrate_blobs(kept, target, tell)
    _no_failures(
        done, "restored (the rest are)",
        f"\nrun `ledgerdesk restore {source} --files-only` to copy them once the store answers",
    )  # fmt: skip
    return done


def _manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.exists():
        raise CliError(f"{source} holds no {MANIFEST}: it is not a whole ledgerdesk backup")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as unreadable:
        raise CliError(f"{path} cannot be read: {unreadable}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise CliError(f"{path}: backup format {found!r} is not {FORMAT}")
    lacking = sorted({"database", "schema", "blob_store", "secrets"} - set(manifest))
    if lacking:
        raise CliError(f"{path} lacks {', '.join(lacking)}: it is not a whole backup")
    return manifest


def _url(settings: Settings) -> str:
    assert settings.database_url is not None
    return settings.database_url


def _run(settings: Settings, program: str, *args: str) -> None:
    """Run a PostgreSQL client program on the install's database (its password in the
    environment, never on the command line); a clear error when it is missing or fails."""
    path = shutil.which(program)
    if path is None:
        raise CliError(f"{program} is not installed: {INSTALL_CLIENT}")
    params = conninfo_to_dict(_url(settings))
    password = params.pop("password", None)
    env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    command = [path, f"--dbname={make_conninfo('', **params)}", *args]
    # Our own program and arguments, never a shell.
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)  # noqa: S603
    if done.returncode != 0:
        raise CliError(f"{program} failed (exit {done.returncode}): {done.stderr.strip()}")


def _sqlite_copy(source: Path, target: Path) -> None:
    """An online, consistent copy (SQLite's backup API: the WAL's writes included)."""
    if not source.exists():
        raise CliError(f"{source} does not exist: is LEDGERDESK_DATA_DIR the install's?")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _objects_in_schema(settings: Settings) -> int:
    """Tables, sequences, types and functions in the schema (-1: no such schema)."""
    with psycopg.connect(_url(settings)) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid)"
            " + (SELECT count(*) FROM pg_type t WHERE t.typnamespace = n.oid"
            "    AND t.typrelid = 0 AND t.typelem = 0)"
            " + (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid)"
            " FROM pg_namespace n WHERE n.nspname = %s",
            (settings.database_schema,),
        ).fetchone()
    return -1 if row is None else int(row[0])


def _empty_schema_exists(settings: Settings) -> bool:
    """Whether the schema is there already (empty); a CliError if it holds anything."""
    found = _objects_in_schema(settings)
    if found > 0:
        raise CliError(
            f"schema {settings.database_schema!r} already holds {found} tables, types or"
            " functions: restore into an empty database (createdb, then point"
            " LEDGERDESK_DATABASE_URL at it)"
        )
    return found == 0


def _without_schema(settings: Settings, dump: Path) -> str:
    """The dump's table of contents without the schema's own creation (pg_restore's
    `--use-list`), for a schema that exists already."""
    path = shutil.which("pg_restore")
    if path is None:
        raise CliError(f"pg_restore is not installed: {INSTALL_CLIENT}")
    toc = subprocess.run(  # noqa: S603 - our own program and arguments
        [path, "--list", str(dump)], capture_output=True, text=True, check=False
    )
    if toc.returncode != 0:
        raise CliError(f"pg_restore could not read {dump}: {toc.stderr.strip()}")
    creation = re.compile(rf"^\d+; \d+ \d+ SCHEMA - {re.escape(settings.database_schema)} ")
    kept = [line for line in toc.stdout.splitlines() if not creation.match(line)]
    return "\n".join(kept) + "\n"


def _store(settings: Settings) -> closing[BlobStore]:
    """The configured blob store, closed on exit."""
    return closing(bootstrap.blob_store(settings))


def _local(settings: Settings, directory: Path) -> closing[BlobStore]:
    """The backup's `blobs/`, as a local blob store."""
    return _store(settings.model_copy(update={"data_dir": directory, "blob_store": "local"}))


def _no_failures(done: Migration, what: str, then: str = "") -> None:
    """A CliError naming the blobs that failed (the first 20), and what to do `then`."""
    if done.failed:
        lines = "\n".join(f"  {sha}: {why}" for sha, why in done.failed[:20])
        raise CliError(f"{len(done.failed)} blob(s) could not be {what}:\n{lines}{then}")
