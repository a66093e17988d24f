"""`ledgerdesk backup DIR` and `ledgerdesk restore DIR` (see `ledgerdesk.backups`)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from ledgerdesk import backups
from ledgerdesk.blobs_cli import progress
from ledgerdesk.cli_common import CliError, _container
from ledgerdesk.settings import Settings


@contextmanager
def _plainly(what: str) -> Iterator[None]:
    """A database, file or disk error as one line (exit 2), not a traceback: exit 1 is a
    restored install whose views do not match its log."""
    try:
        yield
    except (OSError, psycopg.Error, sqlite3.Error) as failed:
        raise CliError(f"{what} failed: {failed}") from None


def cmd_backup(args: argparse.Namespace) -> int:
    settings = Settings()
    with _plainly("the backup"), progress(args.quiet) as tell:
        done = backups.backup(settings, Path(args.directory), tell)
    blobs = (
        "the blobs are in the dump"
        if settings.blob_store == "postgres"
        else f"{done.blobs} blobs ({done.blob_bytes / 1024 / 1024:.1f} MiB copied)"
    )
    kept = f", {' and '.join(done.secrets)}" if done.secrets else ""
    print(f"backed up into {args.directory}: the {done.database} database, {blobs}{kept}")
    if done.warning:
        print(f"warning: {done.warning}", file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace, verify: Callable[[Settings], int]) -> int:
    settings = Settings()
    with _plainly("the restore"), progress(args.quiet) as tell:
        done = backups.restore(settings, Path(args.directory), tell, files_only=args.files_only)
    if args.files_only:
        print(f"restored {done.blobs} blobs")
        return 0
    put = f"; put back {' and '.join(done.secrets)}" if done.secrets else ""
    print(f"restored the {done.database} database and {done.blobs} blobs{put}")
    # The views were copied as they were: they may be a little behind the log copied after
    # them. They catch up now, as a runner would, so the check below finds them current.
    with _container(settings) as c:
        c.runner.catch_up()
    if args.no_verify:
        return 0
    print("checking every view against the log (replay --verify):", flush=True)
    return verify(settings)


def add_backup_commands(sub: Any, verify: Callable[[Settings], int]) -> None:
    backup = sub.add_parser(
        "backup",
        help="back the install up (database, blobs, secrets) into a new directory, online",
    )
    backup.add_argument("directory", help="a directory that does not exist yet, or is empty")
    backup.add_argument("--quiet", action="store_true", help="no progress bar")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser(
        "restore",
        help="restore a backup into an empty database (or data directory) and blob store",
    )
    restore.add_argument("directory", help="a directory `ledgerdesk backup` wrote")
    restore.add_argument("--quiet", action="store_true", help="no progress bar")
    restore.add_argument(
        "--no-verify", action="store_true", help="skip checking every view against the log"
    )
    restore.add_argument(
        "--files-only",
        action="store_true",
        help="copy only the blobs (to finish a restore whose blob copy failed)",
    )
    restore.set_defaults(func=lambda args: cmd_restore(args, verify))
