"""An S3-compatible server for the tests: moto in server mode, over real HTTP on loopback,
started by the tests themselves (nothing to install or run beforehand)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

from tests.smtp_sink import free_port

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ledgerdesk-test",
    "AWS_SECRET_ACCESS_KEY": "ledgerdesk-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str


@contextmanager
def s3_server(bucket: str = "ledgerdesk-blobs") -> Iterator[S3Server]:
    """A running server with `bucket` made, and the AWS variables boto3 reads set."""
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
        yield S3Server(endpoint, bucket)
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
