"""Copying every blob from one store to another (`ledgerdesk blobs migrate --to <store>`).

Each blob is streamed from the source into the target under its hash; the target hashes the
bytes as they arrive and refuses them when they are not the bytes of that hash (a source
blob damaged on its disk is reported, not copied). Once stored, the blob is read back from
the target and hashed again. A blob the target already has is read back and hashed too: kept
when it is whole, copied again over it when it is not. So a migration stopped halfway (or a
copy found damaged) is mended by running it again, and a run that reports no failure has
verified every blob in the target. A blob that fails (a store that did not answer, say) is
reported and the run goes on with the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from commands.blobs.base import BlobHashMismatchError, BlobStore


@dataclass
class Migration:
    copied: int = 0
    present: int = 0  # already in the target, and whole
    mended: int = 0  # in the target but damaged: copied again over it
    copied_bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (sha256, what is wrong)

    @property
    def seen(self) -> int:
        return self.copied + self.present + self.mended + len(self.failed)


def migrate_blobs(
    source: BlobStore, target: BlobStore, tell: Callable[[Migration], None] = lambda _: None
) -> Migration:
    """Copy every blob of `source` that `target` lacks, verifying each (see the module)."""
    done = Migration()
    for sha256 in source.shas():
        try:
            _one(source, target, sha256, done)
        except Exception as wrong:  # noqa: BLE001 - reported with its blob; the others go on
            done.failed.append((sha256, str(wrong) or type(wrong).__name__))
        tell(done)
    return done


def _one(source: BlobStore, target: BlobStore, sha256: str, done: Migration) -> None:
    damaged = False
    if target.exists(sha256):
        if target.hash_of(sha256) == sha256:
            done.present += 1
            return
        damaged = True
    with source.open(sha256) as reader:
        size = target.put_as(sha256, reader, replace=damaged)
    found = target.hash_of(sha256)
    if found != sha256:
        raise BlobHashMismatchError(sha256, found)
    if damaged:
        done.mended += 1
    else:
        done.copied += 1
    done.copied_bytes += size
