"""The test run's servers: a missing server with no binaries stops the run with what to
install, never a skip."""

from __future__ import annotations

import pytest

from tests import services


def test_a_missing_postgresql_without_binaries_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given no PostgreSQL answers and no server binaries are installed
    monkeypatch.setattr(services, "_pg_bin", lambda name: None)
    # When the tests ask for one
    with pytest.raises(services.ServiceUnavailableError) as raised:
        services._start_postgres("postgresql://postgres@127.0.0.1:1/test")
    # Then the error names the package and the variable
    assert "apt-get install postgresql" in str(raised.value)
    assert services.PG_VAR in str(raised.value)


def test_a_missing_redis_without_binaries_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    with pytest.raises(services.ServiceUnavailableError) as raised:
        services._start_redis("redis://127.0.0.1:1/0")
    assert "apt-get install redis-server" in str(raised.value)


def test_a_server_that_does_not_answer_is_seen_as_down() -> None:
    assert not services._postgres_answers("postgresql://postgres@127.0.0.1:1/test")
    assert not services._redis_answers("redis://127.0.0.1:1/0")
    assert not services._amqp_answers("amqp://guest:guest@127.0.0.1:1/%2F")
