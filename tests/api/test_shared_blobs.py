"""Two API machines with no shared disk: a file uploaded through one downloads through the
other, when the blobs are in PostgreSQL or in S3-compatible storage (over real HTTP). And a
store that does not answer is a 503 to try again, with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from copy import copy
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
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


def test_a_store_that_does_not_answer_is_a_503_and_nothing_is_written(
    client: TestClient, live: bootstrap.Container, tmp_path: Path
) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Logs"}).json()["number"]
    sent = client.post(
        f"/api/v1/tickets/{number}/attachments", files={"file": ("a.log", b"some lines")}
    )
    (attachment,) = sent.json()["attachments"]
    dead = Settings(
        data_dir=tmp_path, blob_store="s3://nowhere/x", s3_endpoint_url="http://127.0.0.1:1"
    )
    cut_off = replace(live.services(), commands=copy(live.commands))
    cut_off.commands.blobs = bootstrap.blob_store(dead)
    with TestClient(create_app(cut_off)) as http:
        http.headers.update(client.headers)
        head = live.app.head()
        upload = http.post(
            f"/api/v1/tickets/{number}/attachments", files={"file": ("b.log", b"more lines")}
        )
        download = http.get(
            f"/api/v1/tickets/{number}/attachments/{attachment['id']}",
            headers={"X-Min-Position": sent.headers["X-Log-Position"]},
        )
    for answer in (upload, download):
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("/problems/storage-unavailable")
        assert answer.headers["retry-after"] == "5"
        assert "127.0.0.1:1" not in answer.text
    assert live.app.head() == head
