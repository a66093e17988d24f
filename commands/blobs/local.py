"""Blobs on this machine's disk, under the data directory: `blobs/ab/cd/abcd…`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from commands.blobs.base import BlobMissingError, BlobStore

SHA256 = re.compile(r"[0-9a-f]{64}")


class LocalBlobStore(BlobStore):
    """Blobs as files named by their hash; one API machine (or a shared file system)."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _store(self, sha256: str, size: int, spool: BinaryIO, replace: bool) -> None:
        """The spooled file (spooled under `root`) is renamed into place, not copied again."""
        os.fsync(spool.fileno())
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(spool.name, target)

    def _open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobMissingError(sha256) from None

    def _exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def _size(self, sha256: str) -> int:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobMissingError(sha256) from None

    def _shas(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if second.is_dir():
                    for file in sorted(second.iterdir()):
                        if SHA256.fullmatch(file.name) and file.is_file():
                            yield file.name
