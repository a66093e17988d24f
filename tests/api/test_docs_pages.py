"""The API's documentation pages load everything from the install itself (no CDN)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_local_assets(client: TestClient, page: str) -> None:
    # When a browser asks for the page
    response = client.get(page, headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    # Then every asset it loads is served by ledgerdesk itself
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets, "the page loads no assets"
    for url in assets:
        assert "://" not in url, f"{page} loads {url} from elsewhere"
        assert not url.startswith("//"), f"{page} loads {url} from elsewhere"
        asset = client.get(url, headers={"Authorization": ""})
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert CONTENT_TYPES[suffix] in asset.headers["content-type"], url
        assert len(asset.content) > 100


def test_the_docs_pages_read_the_served_openapi_document(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        assert "/openapi.json" in client.get(page).text
    assert client.get("/openapi.json").json()["info"]["title"] == "ledgerdesk"
