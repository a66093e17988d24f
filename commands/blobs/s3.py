"""Blobs in S3-compatible object storage (`s3://bucket/prefix`): AWS S3, MinIO, Ceph, R2 and
the like, through boto3. The endpoint is LEDGERDESK_S3_ENDPOINT_URL (unset: AWS); credentials
and region come from the usual AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION) or files, as for any AWS tool. The bucket must exist.

A blob is the object `<prefix>/ab/cd/abcd…`, uploaded from the spooled file in parts (an
object appears whole once its upload completes) and read as the response streams."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError

from commands.blobs.base import BlobMissingError, BlobStore

SHA256 = re.compile(r"[0-9a-f]{64}")


class _ServerError(Exception):
    """The S3 server failed or asked us to slow down (after boto3's own retries)."""


MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
PART = 16 * 1024 * 1024  # uploads larger than this go in parts of this size
TRANSFER = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART)


class S3BlobStore(BlobStore):
    kind = "s3"
    # S3UploadFailedError: an upload the server failed, after boto3's retries.
    transient = (BotoCoreError, HTTPError, S3UploadFailedError, _ServerError)

    def __init__(self, url: str, spool_dir: Path, endpoint_url: str | None = None) -> None:
        super().__init__(spool_dir)
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"{url!r} is not s3://bucket or s3://bucket/prefix")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        # Path-style addressing where an endpoint is named: self-hosted servers (MinIO, a
        # test server on an address) seldom have a DNS name per bucket.
        style = "path" if endpoint_url else "auto"
        # Checksums only where S3 requires them: many S3-compatible servers (MinIO, Ceph,
        # B2) refuse the ones botocore sends by default.
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                s3={"addressing_style": style},
                retries={"mode": "standard"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def key(self, sha256: str) -> str:
        name = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def _store(self, sha256: str, size: int, spool: BinaryIO, replace: bool) -> None:
        # By its name: parts are read from the file as they are sent (a file object would
        # have up to ten parts read into memory at once).
        self.client.upload_file(spool.name, self.bucket, self.key(sha256), Config=TRANSFER)

    def _open(self, sha256: str) -> BinaryIO:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            raise _missing_or(error, sha256) from None
        return cast(BinaryIO, found["Body"])

    def _head(self, sha256: str) -> dict[str, Any] | None:
        try:
            return cast(
                dict[str, Any], self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING:
                return None
            raise _missing_or(error, sha256) from None

    def _exists(self, sha256: str) -> bool:
        return self._head(sha256) is not None

    def _size(self, sha256: str) -> int:
        head = self._head(sha256)
        if head is None:
            raise BlobMissingError(sha256)
        return int(head["ContentLength"])

    def _shas(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"].rsplit("/", 1)[-1]
                if SHA256.fullmatch(name) and item["Key"] == self.key(name):
                    yield name


def _missing_or(error: ClientError, sha256: str) -> Exception:
    """BlobMissingError for a missing object, _ServerError for a 5xx or a throttle (it may
    pass), else the error itself (credentials, a missing bucket: for the operator)."""
    code = error.response.get("Error", {}).get("Code")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in MISSING:
        return BlobMissingError(sha256)
    if status >= 500 or code in ("SlowDown", "RequestTimeout", "ServiceUnavailable"):
        return _ServerError(str(error))
    refused: Exception = error
    return refused
