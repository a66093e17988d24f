"""The docs name everything the code serves: every operation of the OpenAPI document in
docs/api.md, and every registered view in docs/architecture.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledgerdesk import bootstrap
from projections.registry import all_projections
from tests.conftest import make_settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def operations(document: dict[str, Any]) -> list[str]:
    return [
        f"{method.upper()} {path.removeprefix('/api/v1')}"
        for path, item in document["paths"].items()
        for method in item
    ]


def test_every_operation_is_in_the_api_docs(tmp_path: Path) -> None:
    # Given the API's own document
    settings = make_settings("sqlite", tmp_path)
    bootstrap.migrate(settings)
    container = bootstrap.build(settings)
    try:
        document = container.http_app().openapi()
    finally:
        container.close()
    text = (DOCS / "api.md").read_text()
    # Then docs/api.md names each operation as `METHOD /path`
    missing = [op for op in operations(document) if f"`{op}`" not in text]
    assert not missing, f"docs/api.md does not name: {missing}"


def test_every_view_is_in_the_architecture_docs() -> None:
    text = (DOCS / "architecture.md").read_text()
    missing = [p.name for p in all_projections() if f"| `{p.name}` |" not in text]
    assert not missing, f"docs/architecture.md has no row for the views: {missing}"
