"""The OpenAPI document is complete: tags, summaries, descriptions, error responses."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_every_operation_is_documented_with_its_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = [
        (path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]
    assert len(operations) >= 12
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("tags"), where
        assert op.get("summary"), where
        assert op.get("description"), where
        if path not in ("/api/v1/health", "/api/v1/health/live", "/api/v1/health/ready"):
            assert "401" in op["responses"], where
            assert "application/problem+json" in op["responses"]["401"]["content"], where
    tags = {t["name"] for t in spec["tags"]}
    assert {tag for _, _, op in operations for tag in op["tags"]} <= tags
