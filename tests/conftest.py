"""Shared fixtures: a hub on SQLite and on PostgreSQL, a secret box, a clean environment."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub, make_engine, migrate
from leadbridge.secrets import SECRET_VALUES, SecretBox, load_keys
from leadbridge.settings import get_settings

PG_URL = os.environ.get("LEADBRIDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Set (a PostgreSQL server URL) to run every test's hub on PostgreSQL: each test gets a fresh
# database on that server, dropped afterwards (`./dev test --postgres`, the CI's second pass).
TEST_DATABASE = os.environ.get("LEADBRIDGE_TEST_DATABASE", "")


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(
            PG_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3
        ):
            return None
    except Exception as exc:  # the reason is shown in the skip message
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {exc}"


_PG_SKIP = _pg_available()


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on `server` (a postgresql:// URL), dropped afterwards
    (with the connections a killed process left)."""
    import psycopg

    base, _, _ = server.rstrip("/").rpartition("/")
    name = f"lb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the developer's hub or key: each gets its own directory and key, and its
    own hub (SQLite in its directory, or a fresh PostgreSQL database: LEADBRIDGE_TEST_DATABASE)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEADBRIDGE_SECRET_KEY", Fernet.generate_key().decode())
    SECRET_VALUES.clear()  # each test's process knows only the secrets it opened itself
    with contextlib.ExitStack() as stack:
        if TEST_DATABASE:
            url = stack.enter_context(fresh_database(TEST_DATABASE))
        else:
            url = f"sqlite:///{tmp_path / 'hub.db'}"
        monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", url)
        get_settings.cache_clear()
        yield
        get_settings.cache_clear()


@pytest.fixture
def postgres_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This test's hub on a fresh PostgreSQL database (whatever the run's default), for what
    only runs there (the procrastinate workers); skipped with the reason without a server."""
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    if TEST_DATABASE:
        yield get_settings().database_url
        return
    with fresh_database(PG_URL) as url:
        monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", url)
        get_settings.cache_clear()
        yield url


def _sqlite_hub(tmp_path: Path) -> Hub:
    return Hub.open(f"sqlite:///{tmp_path / 'hub.db'}")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL pointing at a fresh schema, dropped afterwards."""
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    import psycopg

    schema = f"lb_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        hub = _sqlite_hub(tmp_path)
    else:
        url = request.getfixturevalue("pg_url")
        engine = make_engine(url)
        migrate(engine)
        hub = Hub(engine)
    yield hub
    hub.dispose()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    h = Hub.open(get_settings().database_url)  # SQLite unless the run (or test) chose PostgreSQL
    yield h
    h.dispose()


@pytest.fixture
def box() -> SecretBox:
    """The key of this test's environment, so a `leadbridge` subprocess can open the hub."""
    return SecretBox(load_keys())


@pytest.fixture
def connections(hub: Hub, box: SecretBox) -> Connections:
    return Connections(hub, box)
