"""What every blob store does: bytes stored once under their SHA-256, written and read a
chunk at a time (never a whole file in memory).

`put` spools what it is given to a temporary file while hashing it and counting its bytes,
refusing more than a limit; only then, with the hash known, does the store keep it, once.
A store keeps a blob whole or not at all: a reader never sees part of one."""

from __future__ import annotations

import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from commands.errors import AttachmentTooLargeError

CHUNK = 1024 * 1024
NO_LIMIT = 1 << 62


class BlobMissingError(LookupError):
    """The store holds no blob by this hash."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"no blob {sha256}")
        self.sha256 = sha256


class BlobHashMismatchError(ValueError):
    """Bytes copied under a hash are not the bytes of that hash."""

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(f"blob {expected}: its bytes hash to {found}")
        self.expected = expected
        self.found = found


@contextmanager
def spooled(source: BinaryIO, spool_dir: Path, limit: int) -> Iterator[tuple[BinaryIO, str, int]]:
    """`source` copied to a temporary file under `spool_dir`, hashed and counted: yields
    (the file, rewound; its SHA-256; its size). The file is gone afterwards. More than `limit`
    bytes raise AttachmentTooLargeError."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=spool_dir, prefix=".upload-")
    try:
        os.close(fd)
        with open(name, "w+b") as spool:  # opened by name, so that `spool.name` is its path
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise AttachmentTooLargeError(limit)
                digest.update(chunk)
                spool.write(chunk)
            spool.flush()
            spool.seek(0)
            yield spool, digest.hexdigest(), size
    finally:
        Path(name).unlink(missing_ok=True)


class BlobStore(ABC):
    """Stores bytes under their SHA-256; the same bytes are kept once."""

    kind: str  # "local", "postgres" or "s3": what LEDGERDESK_BLOB_STORE names

    def __init__(self, spool_dir: Path) -> None:
        self.spool_dir = spool_dir

    def put(self, source: BinaryIO, limit: int) -> tuple[str, int]:
        """Copy `source` in, refusing more than `limit` bytes; return (sha256, size)."""
        with spooled(source, self.spool_dir, limit) as (spool, sha256, size):
            if not self.exists(sha256):
                self._store(sha256, size, spool)
        return sha256, size

    def put_as(self, sha256: str, source: BinaryIO) -> int:
        """Copy `source` in under `sha256`, which its bytes must hash to (else
        BlobHashMismatchError, and nothing is kept); return its size."""
        with spooled(source, self.spool_dir, NO_LIMIT) as (spool, found, size):
            if found != sha256:
                raise BlobHashMismatchError(sha256, found)
            if not self.exists(sha256):
                self._store(sha256, size, spool)
        return size

    def chunks(self, sha256: str, size: int = CHUNK) -> Iterator[bytes]:
        """The blob's bytes, `size` at a time (BlobMissingError before any when absent)."""
        reader = self.open(sha256)
        return _chunks_of(reader, size)

    def read_bytes(self, sha256: str) -> bytes:
        """The whole blob, for the small ones read whole anyway (a mail, a logo)."""
        with self.open(sha256) as reader:
            return reader.read()

    def hash_of(self, sha256: str) -> str:
        """The SHA-256 of the bytes stored under `sha256`, read back from the store."""
        digest = hashlib.sha256()
        for chunk in self.chunks(sha256):
            digest.update(chunk)
        return digest.hexdigest()

    @abstractmethod
    def _store(self, sha256: str, size: int, spool: BinaryIO) -> None:
        """Keep `spool`'s `size` bytes under `sha256`, whole or not at all."""

    @abstractmethod
    def open(self, sha256: str) -> BinaryIO:
        """A reader of the blob's bytes, to be closed (`with`); BlobMissingError when absent."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def size(self, sha256: str) -> int:
        """The blob's size in bytes; BlobMissingError when absent."""

    @abstractmethod
    def shas(self) -> Iterator[str]:
        """The hash of every blob kept, each once, in no particular order."""

    def close(self) -> None:  # noqa: B027 - most stores have nothing to let go of
        """Let go of connections (nothing to do for a store on disk)."""


def _chunks_of(reader: BinaryIO, size: int) -> Iterator[bytes]:
    with reader:
        while chunk := reader.read(size):
            yield chunk
