"""Sign-in hardening over HTTP: throttled logins and portal sign-ins (429 with Retry-After),
and password changes by signed-in users."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.throttle import Limits, SignInThrottle, TooManyAttemptsError
from domain.errors import InvalidCredentialsError
from ledgerdesk import bootstrap
from tests.api.test_accounts_api import PASSWORD, bearer, create_user, log_in


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@contextmanager
def limited(
    live: bootstrap.Container, client: TestClient, limits: Limits, clock: Clock
) -> Iterator[TestClient]:
    """The app with these sign-in limits and a clock the test moves."""
    throttle = SignInThrottle(live.views, limits, clock)
    with TestClient(create_app(replace(live.services(), throttle=throttle))) as http:
        http.headers["Authorization"] = client.headers["Authorization"]
        yield http


@pytest.fixture
def strict(live: bootstrap.Container, client: TestClient, clock: Clock) -> Iterator[TestClient]:
    """3 attempts per client and 2 failures per address in 60 s."""
    with limited(live, client, Limits(3, 2, 60), clock) as http:
        yield http


def attempt(http: TestClient, email: str, password: str, client: str = "") -> int:
    headers = {"Authorization": ""}
    response = http.post(
        "/api/v1/auth/token", json={"email": email, "password": password}, headers=headers
    )
    if response.status_code == 429:
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["type"] == "/problems/too-many-attempts"
    return response.status_code


def test_failures_for_one_address_are_throttled_even_with_the_right_password(
    strict: TestClient, clock: Clock
) -> None:
    # Given an account
    create_user(strict, "ada@example.com", password=PASSWORD)
    # When its password is guessed wrong twice
    assert attempt(strict, "ada@example.com", "guess one") == 401
    assert attempt(strict, "ada@example.com", "guess two") == 401
    # Then the next attempt is refused with 429, even with the right password
    assert attempt(strict, "ada@example.com", PASSWORD) == 429
    # And once the window has passed the right password works again
    clock.now += 120
    assert attempt(strict, "ada@example.com", PASSWORD) == 201


def test_attempts_from_one_client_are_throttled_whatever_the_address(
    strict: TestClient, clock: Clock
) -> None:
    # Given a client that tries three different addresses
    for n in range(3):
        assert attempt(strict, f"nobody{n}@example.com", "guess") == 401
    # Then its fourth attempt is refused
    assert attempt(strict, "someone@example.com", "guess") == 429
    # And the portal's sign-in (an invitation) is refused for it too
    response = strict.post(
        "/api/v1/portal/session", json={"invitation": "ldp_x_y"}, headers={"Authorization": ""}
    )
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    # Until the window has slid past
    clock.now += 120
    assert attempt(strict, "someone@example.com", "guess") == 401


def test_a_success_clears_the_failures_of_its_address(strict: TestClient, clock: Clock) -> None:
    create_user(strict, "ada@example.com", password=PASSWORD)
    assert attempt(strict, "ada@example.com", "guess") == 401
    assert attempt(strict, "ada@example.com", PASSWORD) == 201
    clock.now += 60  # A new client window; the address failures were cleared by the success.
    assert attempt(strict, "ada@example.com", "guess") == 401
    assert attempt(strict, "ada@example.com", PASSWORD) == 201


def test_a_signed_in_user_changes_their_password_and_their_other_sessions_end(
    client: TestClient,
) -> None:
    # Given a user signed in twice, with an API token too
    create_user(client, "ada@example.com", password=PASSWORD)
    here, elsewhere = log_in(client, "ada@example.com"), log_in(client, "ada@example.com")
    api_token = client.post("/api/v1/me/tokens", json={"label": "ci"}, headers=bearer(here))
    assert api_token.status_code == 201
    # When they change their password from one session
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a much better secret"},
        headers=bearer(here),
    )
    assert changed.status_code == 204, changed.text
    assert int(changed.headers["X-Log-Position"]) > 0
    # Then the new password signs in and the old one does not
    assert log_in(client, "ada@example.com", "a much better secret")
    wrong = client.post(
        "/api/v1/auth/token",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"Authorization": ""},
    )
    assert wrong.status_code == 401
    # And the session that changed it and the API token go on; the other session ended
    assert client.get("/api/v1/me", headers=bearer(here)).status_code == 200
    assert (
        client.get("/api/v1/me", headers=bearer(api_token.json()["access_token"])).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=bearer(elsewhere)).status_code == 401


def test_a_password_change_needs_the_current_password_and_a_new_one(client: TestClient) -> None:
    create_user(client, "ada@example.com", password=PASSWORD)
    token = log_in(client, "ada@example.com")
    cases = [
        (
            {"current_password": "not it at all", "new_password": "a much better secret"},
            "current_password",
        ),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/me/password", json=body, headers=bearer(token))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["location"][-1] == field
    # And nothing changed
    assert log_in(client, "ada@example.com", PASSWORD)


def test_wrong_current_passwords_are_throttled(
    live: bootstrap.Container, client: TestClient, clock: Clock
) -> None:
    with limited(live, client, Limits(100, 2, 60), clock) as strict:
        wrong_current_passwords_are_throttled(strict)


def wrong_current_passwords_are_throttled(strict: TestClient) -> None:
    create_user(strict, "ada@example.com", password=PASSWORD)
    token = strict.post(
        "/api/v1/auth/token",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"Authorization": ""},
    ).json()["access_token"]
    body = {"current_password": "guessing", "new_password": "a much better secret"}
    statuses = [
        strict.post("/api/v1/me/password", json=body, headers=bearer(token)).status_code
        for _ in range(3)
    ]
    assert statuses == [422, 422, 429]


def test_concurrent_wrong_passwords_get_no_more_guesses_than_the_limit(
    live: bootstrap.Container,
) -> None:
    # Given the per-address limit of 10 failures
    throttle = SignInThrottle(
        live.views, Limits(per_client=1000, per_address=10, window_seconds=900)
    )

    def guess(n: int) -> str:
        try:
            with throttle.attempt(f"client-{n % 4}", "victim@example.com"):
                raise InvalidCredentialsError
        except InvalidCredentialsError:
            return "checked"
        except TooManyAttemptsError:
            return "refused"

    # When 40 wrong passwords arrive at once
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(guess, range(40)))
    # Then exactly 10 of them were checked; the rest were refused before any check
    assert outcomes.count("checked") == 10
    assert outcomes.count("refused") == 30
