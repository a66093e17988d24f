"""Two API machines with no shared disk: a file uploaded through one downloads through the
other, when the blobs are in PostgreSQL or in S3-compatible storage (over real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.conftest import make_settings
from tests.factories import admin_token
from tests.s3_server import S3Server, s3_server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.mark.parametrize("kind", ["postgres", "s3"])
def test_a_file_sent_to_one_api_machine_downloads_from_the_other(
    kind: str, tmp_path: Path, pg_schema: str, s3: S3Server
) -> None:
    spec = "postgres" if kind == "postgres" else f"s3://{s3.bucket}/{pg_schema}"
    machines = [
        make_settings("postgres", tmp_path / name, pg_schema).model_copy(
            update={"blob_store": spec, "s3_endpoint_url": s3.endpoint_url}
        )
        for name in ("one", "two")
    ]
    bootstrap.migrate(machines[0])
    one, two = (bootstrap.build(settings) for settings in machines)
    try:
        one.follow()
        two.follow()
        token = admin_token(one)
        payload = bytes(range(256)) * 5000  # binary, over a megabyte: more than one chunk
        with TestClient(one.http_app()) as first, TestClient(two.http_app()) as second:
            for http in (first, second):
                http.headers["Authorization"] = f"Bearer {token}"
            number = first.post("/api/v1/tickets", json={"title": "Logs"}).json()["number"]
            sent = first.post(
                f"/api/v1/tickets/{number}/attachments",
                files={"file": ("trace.bin", payload, "application/octet-stream")},
            )
            assert sent.status_code == 201, sent.text
            (attachment,) = sent.json()["attachments"]
            got = second.get(
                f"/api/v1/tickets/{number}/attachments/{attachment['id']}",
                headers={"X-Min-Position": sent.headers["X-Log-Position"]},
            )
        assert got.status_code == 200, got.text
        assert got.content == payload
        assert got.headers["content-length"] == str(len(payload))
        assert got.headers["content-disposition"].startswith("attachment")
        for settings in machines:  # nothing on either machine's disk but spooled, and gone
            assert not settings.blob_dir.exists()
            assert not any(settings.spool_dir.glob("*"))
        if kind == "s3":
            listed = boto3.client("s3", endpoint_url=s3.endpoint_url).list_objects_v2(
                Bucket=s3.bucket, Prefix=f"{pg_schema}/"
            )
            assert [item["Size"] for item in listed["Contents"]] == [len(payload)]
    finally:
        one.close()
        two.close()
