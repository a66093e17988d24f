"""A content-addressed blob store on disk: attachments are stored once, by SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from commands.errors import AttachmentTooLargeError

CHUNK = 1024 * 1024


class BlobStore:
    """Stores bytes under their SHA-256; the same bytes are written once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: BinaryIO, limit: int) -> tuple[str, int]:
        """Copy `source` in, refusing more than `limit` bytes; return (sha256, size)."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise AttachmentTooLargeError(limit)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            target = self.path(sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return sha256, size

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()
