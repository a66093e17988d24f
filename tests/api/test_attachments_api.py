"""Attachments: stored by hash, always downloaded (never rendered), bounded in size."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from api.app import create_app
from ledgerdesk import bootstrap


def test_an_attachment_downloads_as_the_same_bytes_and_never_inline(
    client: TestClient,
) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Logs"}).json()["number"]
    payload = b"<script>alert(1)</script>\x00\x01binary"
    response = client.post(
        f"/api/v1/tickets/{number}/attachments",
        files={"file": ("../../evil.html", payload, "text/html")},
    )
    assert response.status_code == 201, response.text
    (attachment,) = response.json()["attachments"]
    assert attachment["name"] == "evil.html"
    assert attachment["size"] == len(payload)
    assert attachment["id"] == response.headers["X-Attachment-ID"]
    download = client.get(
        f"/api/v1/tickets/{number}/attachments/{attachment['id']}",
        headers={"X-Min-Position": response.headers["X-Log-Position"]},
    )
    assert download.status_code == 200
    assert download.content == payload
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unknown_attachment_is_a_404_problem(client: TestClient) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Logs"}).json()["number"]
    response = client.get(
        f"/api/v1/tickets/{number}/attachments/00000000-0000-0000-0000-000000000000"
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_an_upload_over_the_limit_gets_413_and_appends_nothing(
    client: TestClient, live: bootstrap.Container
) -> None:
    number = client.post("/api/v1/tickets", json={"title": "Big"}).json()["number"]
    small = TestClient(create_app(replace(live.services(), max_attachment_bytes=16)))
    small.headers.update(client.headers)
    head = live.app.head()
    over = small.post(f"/api/v1/tickets/{number}/attachments", files={"file": ("a.bin", b"x" * 17)})
    assert over.status_code == 413
    assert over.headers["content-type"] == "application/problem+json"
    assert over.json()["limit"] == 16
    way_over = small.post(
        f"/api/v1/tickets/{number}/attachments", files={"file": ("a.bin", b"x" * 200_000)}
    )
    assert way_over.status_code == 413
    assert live.app.head() == head
