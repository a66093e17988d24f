"""Content-addressed blob stores: attachments, raw mail, logos and import files are stored
once, by SHA-256, on this machine's disk (`local`), in the PostgreSQL database (`postgres`)
or in S3-compatible object storage (`s3://bucket/prefix`), as LEDGERDESK_BLOB_STORE says.
`blobs migrate` (`commands.blobs.migrate`) copies every blob from one to another."""

from __future__ import annotations

from pathlib import Path

from commands.blobs.base import (
    CHUNK,
    BlobHashMismatchError,
    BlobMissingError,
    BlobStore,
    BlobStoreUnavailableError,
)
from commands.blobs.local import LocalBlobStore

__all__ = [
    "CHUNK",
    "BlobHashMismatchError",
    "BlobMissingError",
    "BlobStore",
    "BlobStoreConfigError",
    "BlobStoreUnavailableError",
    "LocalBlobStore",
    "open_blob_store",
]


class BlobStoreConfigError(ValueError):
    """A blob store that cannot be: unknown, or `postgres` without PostgreSQL."""


def open_blob_store(
    spec: str, *, root: Path, spool_dir: Path, database_url: str | None, schema: str,
    s3_endpoint_url: str | None = None, pool_size: int = 4,
) -> BlobStore:  # fmt: skip
    """The store `spec` names: `local` (files under `root`), `postgres` (the database at
    `database_url`, in `schema`, with up to `pool_size` connections) or `s3://bucket/prefix`.
    Temporary files go in `spool_dir`."""
    if spec == "local":
        return LocalBlobStore(root)
    if spec == "postgres":
        if database_url is None:
            raise BlobStoreConfigError(
                "the postgres blob store needs PostgreSQL: set LEDGERDESK_DATABASE_URL"
            )
        from commands.blobs.postgres import PostgresBlobStore

        return PostgresBlobStore(database_url, schema, spool_dir, pool_size)
    if spec.startswith("s3://"):
        from commands.blobs.s3 import S3BlobStore

        try:
            return S3BlobStore(spec, spool_dir, s3_endpoint_url)
        except ValueError as bad:
            raise BlobStoreConfigError(str(bad)) from None
    raise BlobStoreConfigError(
        f"unknown blob store {spec!r}: use local, postgres or s3://bucket/prefix"
    )
