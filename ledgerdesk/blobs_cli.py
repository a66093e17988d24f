"""`ledgerdesk blobs ...`: the blob store's commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

from commands.blobs import BlobStoreConfigError
from commands.blobs.migrate import Migration, migrate_blobs
from ledgerdesk.bootstrap import blob_store
from ledgerdesk.cli_common import CliError
from ledgerdesk.settings import Settings


@contextmanager
def progress(quiet: bool) -> Iterator[Callable[[Migration], None]]:
    """A progress bar of blobs copied, on a terminal's standard error (none with `quiet`)."""
    bar: Any = tqdm(unit=" blobs", disable=quiet or not sys.stderr.isatty())
    try:
        yield lambda done: bar.update(1)
    finally:
        bar.close()


def cmd_blobs_migrate(args: argparse.Namespace) -> int:
    """Copy every blob of the configured store (LEDGERDESK_BLOB_STORE) to `--to`."""
    settings = Settings()
    target_spec = args.to.strip().rstrip("/")
    if not target_spec:
        raise CliError("--to names a store: local, postgres or s3://bucket/prefix")
    if target_spec == settings.blob_store.rstrip("/"):
        raise CliError(f"the blobs are already in {target_spec} (LEDGERDESK_BLOB_STORE)")
    try:
        source = blob_store(settings)
        target = blob_store(settings, target_spec)
    except BlobStoreConfigError as bad:
        raise CliError(str(bad)) from None
    try:
        with progress(args.quiet) as tell:
            done = migrate_blobs(source, target, tell)
    finally:
        source.close()
        target.close()
    print(
        f"{done.copied} blobs copied ({done.copied_bytes} bytes), {done.present} already"
        f" in {target_spec}, {done.mended} found damaged there and copied again,"
        f" {len(done.failed)} failed"
    )
    for sha256, wrong in done.failed:
        print(f"ledgerdesk: error: blob {sha256}: {wrong}", file=sys.stderr)
    if done.failed:
        return 1
    print(f"every blob is in {target_spec}: set LEDGERDESK_BLOB_STORE={target_spec}")
    return 0


def add_blob_commands(sub: Any) -> None:
    blobs = sub.add_parser("blobs", help="the blob store (attachments, raw mail, imports)")
    actions = blobs.add_subparsers(dest="action", required=True)
    migrate = actions.add_parser(
        "migrate",
        help="copy every blob to another store, verifying each hash (run again to resume)",
    )
    migrate.add_argument("--to", required=True, help="local, postgres or s3://bucket/prefix")
    migrate.add_argument("--quiet", action="store_true", help="no progress bar")
    migrate.set_defaults(func=cmd_blobs_migrate)
