"""Copying every blob from one store to another (`ledgerdesk blobs migrate --to <store>`).

Each blob is streamed from the source into the target under its hash; the target hashes the
bytes as they arrive and refuses them when they are not the bytes of that hash (a source
blob damaged on its disk is reported, not copied). Once stored, the blob is read back from
the target and hashed again. A blob the target already has is not copied again — stores keep
a blob whole or not at all — so a migration stopped halfway is resumed by running it again;
one already there is checked by its size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from commands.blobs.base import BlobHashMismatchError, BlobMissingError, BlobStore


@dataclass
class Migration:
    copied: int = 0
    present: int = 0
    copied_bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (sha256, what is wrong)

    @property
    def seen(self) -> int:
        return self.copied + self.present + len(self.failed)


def migrate_blobs(
    source: BlobStore, target: BlobStore, tell: Callable[[Migration], None] = lambda _: None
) -> Migration:
    """Copy every blob of `source` that `target` lacks, verifying each (see the module)."""
    done = Migration()
    for sha256 in source.shas():
        try:
            _one(source, target, sha256, done)
        except (BlobHashMismatchError, BlobMissingError) as wrong:
            done.failed.append((sha256, str(wrong)))
        tell(done)
    return done


def _one(source: BlobStore, target: BlobStore, sha256: str, done: Migration) -> None:
    if target.exists(sha256):
        size, there = source.size(sha256), target.size(sha256)
        if size != there:
            done.failed.append((sha256, f"the target holds {there} bytes, the source {size}"))
        else:
            done.present += 1
        return
    with source.open(sha256) as reader:
        size = target.put_as(sha256, reader)
    found = target.hash_of(sha256)
    if found != sha256:
        raise BlobHashMismatchError(sha256, found)
    done.copied += 1
    done.copied_bytes += size
