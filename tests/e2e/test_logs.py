"""The server's logs, as an operator reads them: one JSON object a line, each with its time,
level, role and logger, the request's correlation id and actor; and never a token or secret
a scenario used (a token in a log is a token anyone who reads the logs holds)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledgerdesk.settings import Settings
from tests.conftest import make_settings
from tests.e2e.conftest import Served, init, serving

pytestmark = pytest.mark.slow


@pytest.fixture
def embedded(tmp_path: Path) -> Settings:
    return make_settings("sqlite", tmp_path)


@pytest.fixture
def logged(embedded: Settings, tmp_path: Path) -> Iterator[tuple[Served, str]]:
    token = init(embedded)
    with serving(embedded, tmp_path / "serve.log", env={"LEDGERDESK_LOG_LEVEL": "info"}) as s:
        yield s, token


def test_a_whole_scenario_logs_json_lines_with_who_and_which_request_and_no_secret(
    logged: tuple[Served, str],
) -> None:
    served, admin = logged
    base, staff = served.base, {"Authorization": f"Bearer {admin}"}
    secrets = [admin]
    me = httpx.get(f"{base}/api/v1/me", headers={**staff, "X-Correlation-ID": "trace-me-1"})
    assert me.status_code == 200
    minted = httpx.post(
        f"{base}/api/v1/me/tokens", json={"label": "ci", "scopes": ["read"]}, headers=staff
    )
    assert minted.status_code == 201, minted.text
    secrets.append(minted.json()["access_token"])
    org = httpx.post(f"{base}/api/v1/customers", json={"name": "Acme"}, headers=staff)
    contact = httpx.post(
        f"{base}/api/v1/contacts",
        json={"email": "ada@acme.example", "organisation_id": org.json()["id"]},
        headers=staff,
    ).json()
    invitation = httpx.post(
        f"{base}/api/v1/contacts/{contact['id']}/portal-invitations", headers=staff
    ).json()["invitation"]
    secrets.append(invitation)
    session = httpx.post(f"{base}/api/v1/portal/session", json={"invitation": invitation})
    assert session.status_code == 201, session.text
    customer = session.json()["access_token"]
    secrets.append(customer)
    mine = httpx.get(
        f"{base}/api/v1/portal/tickets",
        headers={"Authorization": f"Bearer {customer}", "X-Correlation-ID": "trace-portal-1"},
    )
    assert mine.status_code == 200, mine.text
    number = httpx.post(f"{base}/api/v1/tickets", json={"title": "Logs"}, headers=staff).json()[
        "number"
    ]
    sent = httpx.post(
        f"{base}/api/v1/tickets/{number}/attachments",
        files={"file": ("trace.txt", b"a line\n")},
        headers=staff,
    )
    assert sent.status_code == 201, sent.text
    # a wrong token, a token in a path (an invitation's), a token in a query string
    assert (
        httpx.get(f"{base}/api/v1/me", headers={"Authorization": "Bearer ld_wrong"}).status_code
        == 401
    )
    httpx.get(f"{base}/portal/invite/{invitation}")
    httpx.get(f"{base}/portal/sign-in/{invitation}")
    httpx.get(f"{base}/api/v1/health", params={"access_token": customer})
    served.process.terminate()
    served.process.wait(timeout=15)

    text = served.log.read_text()
    for secret in secrets:
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert all({"time", "level", "role", "logger", "message"} <= set(line) for line in lines)
    assert {line["role"] for line in lines} == {"api"}
    access = [line for line in lines if line["logger"] == "ledgerdesk.access"]
    (traced,) = [line for line in access if line.get("correlation_id") == "trace-me-1"]
    assert traced["route"] == "/api/v1/me"
    assert traced["status"] == 200
    assert traced["actor"] == f"user:{me.json()['id']}"
    assert traced["duration_ms"] >= 0
    (portal,) = [line for line in access if line.get("correlation_id") == "trace-portal-1"]
    assert portal["actor"] == f"contact:{contact['id']}"
    assert portal["route"] == "/api/v1/portal/tickets"
    routes = {line["route"] for line in access}
    assert "/api/v1/tickets/{number}/attachments" in routes
    assert {line["status"] for line in access} >= {200, 201, 401}
