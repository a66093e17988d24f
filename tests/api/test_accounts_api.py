"""Staff accounts over HTTP: login, invitations, scopes, deactivation, tokens."""

from __future__ import annotations

from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_user(client: TestClient, email: str, **body: object) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/v1/users", json={"email": email, "name": email, **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/api/v1/auth/token",
        json={"email": email, "password": password},
        headers={"Authorization": ""},
    )
    assert response.status_code == 201, response.text
    assert response.headers["Cache-Control"] == "no-store"
    return response.json()["access_token"]  # type: ignore[no-any-return]


def test_a_password_login_gives_a_session_token_and_a_wrong_one_a_401(
    client: TestClient,
) -> None:
    create_user(client, "ada@example.com", password=PASSWORD)
    token = log_in(client, "ada@example.com")
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["role"], me.json()["status"]) == (
        "ada@example.com",
        "member",
        "active",
    )
    wrong = client.post(
        "/api/v1/auth/token",
        json={"email": "ada@example.com", "password": "nope"},
        headers={"Authorization": ""},
    )
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == PROBLEM
    assert wrong.json()["type"] == "/problems/invalid-credentials"
    assert "password" not in wrong.text.lower().replace("wrong email or password", "")


def test_an_invitation_is_redeemed_once_for_a_password_and_a_session(
    client: TestClient,
) -> None:
    invited = client.post(
        "/api/v1/users/invitations",
        json={"email": "grace@example.com", "name": "Grace", "flags": ["manage_teams"]},
    )
    assert invited.status_code == 201
    assert invited.json()["user"]["status"] == "invited"
    invitation = invited.json()["invitation"]
    accept = {"token": invitation, "password": PASSWORD}
    short = client.post(
        "/api/v1/auth/invitations/accept", json={"token": invitation, "password": "short"}
    )
    assert short.status_code == 422
    accepted = client.post("/api/v1/auth/invitations/accept", json=accept)
    assert accepted.status_code == 201
    me = client.get("/api/v1/me", headers=bearer(accepted.json()["access_token"])).json()
    assert (me["status"], me["flags"]) == ("active", ["manage_teams"])
    again = client.post("/api/v1/auth/invitations/accept", json=accept)
    assert again.status_code == 401
    assert log_in(client, "grace@example.com")


def test_a_read_only_token_reads_but_cannot_write(client: TestClient) -> None:
    created = client.post("/api/v1/me/tokens", json={"label": "dashboard", "scopes": ["read"]})
    assert created.status_code == 201
    assert created.json()["scopes"] == ["read"]
    reader = bearer(created.json()["access_token"])
    assert client.get("/api/v1/views/flat", headers=reader).status_code == 200
    refused = client.post("/api/v1/tickets", json={"title": "x"}, headers=reader)
    assert refused.status_code == 403
    assert "write scope" in refused.json()["detail"]


def test_members_cannot_administer_and_admins_need_the_admin_scope(
    client: TestClient,
) -> None:
    ada = create_user(client, "ada@example.com", password=PASSWORD)
    member = bearer(log_in(client, "ada@example.com"))
    assert (
        client.post(
            "/api/v1/users", json={"email": "x@example.com", "name": "X"}, headers=member
        ).status_code
        == 403
    )
    promote = client.patch(f"/api/v1/users/{ada['id']}", json={"role": "admin"}, headers=member)
    assert promote.status_code == 403
    renamed = client.patch(f"/api/v1/users/{ada['id']}", json={"name": "Ada L."}, headers=member)
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Ada L."
    no_admin_scope = client.post("/api/v1/me/tokens", json={"scopes": ["read", "write"]})
    limited = bearer(no_admin_scope.json()["access_token"])
    refused = client.post(
        "/api/v1/users", json={"email": "y@example.com", "name": "Y"}, headers=limited
    )
    assert refused.status_code == 403
    assert "admin scope" in refused.json()["detail"]


def test_deactivating_a_user_stops_their_tokens_and_you_cannot_deactivate_yourself(
    client: TestClient,
) -> None:
    ada = create_user(client, "ada@example.com", password=PASSWORD)
    token = bearer(log_in(client, "ada@example.com"))
    assert client.get("/api/v1/me", headers=token).status_code == 200
    off = client.patch(f"/api/v1/users/{ada['id']}", json={"active": False})
    assert off.json()["status"] == "deactivated"
    assert client.get("/api/v1/me", headers=token).status_code == 401
    me = client.get("/api/v1/me").json()
    self_off = client.patch(f"/api/v1/users/{me['id']}", json={"active": False})
    assert self_off.status_code == 409


def test_tokens_are_listed_without_secrets_and_revoked_at_once(client: TestClient) -> None:
    created = client.post(
        "/api/v1/me/tokens",
        json={"label": "ci", "scopes": ["read"], "expires_at": "2099-01-01T00:00:00Z"},
    ).json()
    listed = client.get("/api/v1/me/tokens").json()
    ci = [t for t in listed if t["id"] == created["token_id"]]
    assert ci == [
        {
            "id": created["token_id"],
            "label": "ci",
            "kind": "api",
            "scopes": ["read"],
            "expires_at": "2099-01-01T00:00:00+00:00",
        }
    ]
    assert created["access_token"] not in client.get("/api/v1/me/tokens").text
    gone = client.delete(f"/api/v1/me/tokens/{created['token_id']}")
    assert gone.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(created["access_token"])).status_code == 401
    assert client.delete("/api/v1/me/tokens/nope").status_code == 404


def test_logging_out_revokes_the_token_used(client: TestClient) -> None:
    create_user(client, "ada@example.com", password=PASSWORD)
    token = bearer(log_in(client, "ada@example.com"))
    assert client.delete("/api/v1/auth/token", headers=token).status_code == 204
    assert client.get("/api/v1/me", headers=token).status_code == 401


def test_the_user_list_filters_by_status_and_pages(client: TestClient) -> None:
    for n in range(3):
        create_user(client, f"user{n}@example.com")
    last = client.post(
        "/api/v1/users/invitations", json={"email": "new@example.com", "name": "New"}
    )
    position = last.headers["X-Log-Position"]
    page = client.get(
        "/api/v1/users", params={"limit": 2}, headers={"X-Min-Position": position}
    ).json()
    assert len(page["items"]) == 2
    rest = client.get("/api/v1/users", params={"cursor": page["next_cursor"]}).json()
    emails = [u["email"] for u in page["items"] + rest["items"]]
    assert emails == sorted(emails)
    assert len(emails) == 5
    invited = client.get("/api/v1/users", params={"status": "invited"}).json()["items"]
    assert [u["email"] for u in invited] == ["new@example.com"]
    assert client.get("/api/v1/users", params={"cursor": "%%%"}).status_code == 422


def test_a_read_only_token_can_still_log_itself_out(client: TestClient) -> None:
    created = client.post("/api/v1/me/tokens", json={"scopes": ["read"]}).json()
    reader = bearer(created["access_token"])
    assert client.delete("/api/v1/auth/token", headers=reader).status_code == 204
    assert client.get("/api/v1/me", headers=reader).status_code == 401


def test_a_login_records_the_callers_correlation_id(client: TestClient) -> None:
    create_user(client, "ada@example.com", password=PASSWORD)
    login = client.post(
        "/api/v1/auth/token",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"Authorization": "", "X-Correlation-ID": "login-42"},
    )
    assert login.status_code == 201
    assert login.headers["X-Correlation-ID"] == "login-42"
