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


class BlobStoreUnavailableError(Exception):
    """The store did not answer (a database or an object store down, a timeout): it may
    pass, so what needed the blob is tried again later, never failed for good."""


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
    # The backend's errors that may pass: raised as BlobStoreUnavailableError.
    transient: tuple[type[BaseException], ...] = ()

    def __init__(self, spool_dir: Path) -> None:
        self.spool_dir = spool_dir

    @contextmanager
    def _answering(self) -> Iterator[None]:
        try:
            yield
        except self.transient as error:
            raise BlobStoreUnavailableError(f"the {self.kind} blob store: {error}") from error

    def put(self, source: BinaryIO, limit: int) -> tuple[str, int]:
        """Copy `source` in, refusing more than `limit` bytes; return (sha256, size)."""
        with spooled(source, self.spool_dir, limit) as (spool, sha256, size), self._answering():
            if not self._exists(sha256):
                self._store(sha256, size, spool, replace=False)
        return sha256, size

    def put_as(self, sha256: str, source: BinaryIO, replace: bool = False) -> int:
        """Copy `source` in under `sha256`, which its bytes must hash to (else
        BlobHashMismatchError, and nothing is kept); return its size. `replace`: write it
        even where the store has a blob by that hash (one found damaged)."""
        with spooled(source, self.spool_dir, NO_LIMIT) as (spool, found, size):
            if found != sha256:
                raise BlobHashMismatchError(sha256, found)
            with self._answering():
                if replace or not self._exists(sha256):
                    self._store(sha256, size, spool, replace=replace)
        return size

    def open(self, sha256: str) -> BinaryIO:
        """A reader of the blob's bytes, to be closed (`with`); BlobMissingError when absent.
        Errors while reading are the backend's own: `chunks` and `read_bytes` translate them."""
        with self._answering():
            return self._open(sha256)

    def chunks(self, sha256: str, size: int = CHUNK) -> Iterator[bytes]:
        """The blob's bytes, `size` at a time (BlobMissingError before any when absent)."""
        reader = self.open(sha256)
        return self._chunks_of(reader, size)

    def _chunks_of(self, reader: BinaryIO, size: int) -> Iterator[bytes]:
        with reader, self._answering():
            while chunk := reader.read(size):
                yield chunk

    def read_bytes(self, sha256: str) -> bytes:
        """The whole blob, for the small ones read whole anyway (a mail, a logo)."""
        return b"".join(self.chunks(sha256))

    def hash_of(self, sha256: str) -> str:
        """The SHA-256 of the bytes stored under `sha256`, read back from the store."""
        digest = hashlib.sha256()
        for chunk in self.chunks(sha256):
            digest.update(chunk)
        return digest.hexdigest()

    def exists(self, sha256: str) -> bool:
        with self._answering():
            return self._exists(sha256)

    def size(self, sha256: str) -> int:
        """The blob's size in bytes; BlobMissingError when absent."""
        with self._answering():
            return self._size(sha256)

    def shas(self) -> Iterator[str]:
        """The hash of every blob kept, each once, in no particular order."""
        with self._answering():
            yield from self._shas()

    @abstractmethod
    def _store(self, sha256: str, size: int, spool: BinaryIO, replace: bool) -> None:
        """Keep `spool`'s `size` bytes under `sha256`, whole or not at all (`replace`: over
        what the store has under that hash)."""

    @abstractmethod
    def _open(self, sha256: str) -> BinaryIO: ...

    @abstractmethod
    def _exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def _size(self, sha256: str) -> int: ...

    @abstractmethod
    def _shas(self) -> Iterator[str]: ...

    def close(self) -> None:  # noqa: B027 - most stores have nothing to let go of
        """Let go of connections (nothing to do for a store on disk)."""
