"""Fixtures: every storage test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

import bootstrap
from settings import Settings
from tests.factories import admin_token

PG_URL = os.environ.get("LEDGERDESK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


# Reads with X-Min-Position wait up to 2 s in production; on a loaded 2-core CI machine a
# view can lag longer than that, which would turn lag into a wrong answer in a test.
READ_WAIT = 15.0


def make_settings(backend: str, tmp_path: Path, schema: str | None = None) -> Settings:
    if backend == "sqlite":
        return Settings(data_dir=tmp_path / "var", database_url=None, read_wait_seconds=READ_WAIT)
    return Settings(
        data_dir=tmp_path / "var",
        database_url=PG_URL,
        database_schema=schema,
        read_wait_seconds=READ_WAIT,
    )


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards, so tests never share tables."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield schema
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "postgres":
        schema = request.getfixturevalue("pg_schema")
        return make_settings("postgres", tmp_path, schema)
    return make_settings("sqlite", tmp_path)


@pytest.fixture
def container(settings: Settings) -> Iterator[bootstrap.Container]:
    """Migrated storage and every service, without live projections."""
    bootstrap.migrate(settings)
    built = bootstrap.build(settings)
    yield built
    built.close()


@pytest.fixture
def live(container: bootstrap.Container) -> bootstrap.Container:
    """The container with projections following the log in background threads."""
    container.follow()
    return container


@pytest.fixture
def client(live: bootstrap.Container) -> Iterator[TestClient]:
    """An HTTP client of the real app, authenticated as an admin."""
    token = admin_token(live)
    with TestClient(live.http_app()) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        yield http
