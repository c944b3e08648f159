"""Shared fixtures: a hub on SQLite and on PostgreSQL, a secret box, a clean environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub, make_engine, migrate
from leadbridge.secrets import SECRET_VALUES, SecretBox, load_keys
from leadbridge.settings import get_settings

PG_URL = os.environ.get("LEADBRIDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


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


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the developer's hub or key: each gets its own directory and key."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("LEADBRIDGE_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    SECRET_VALUES.clear()  # each test's process knows only the secrets it opened itself
    yield
    get_settings.cache_clear()


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
    h = _sqlite_hub(tmp_path)
    yield h
    h.dispose()


@pytest.fixture
def box() -> SecretBox:
    """The key of this test's environment, so a `leadbridge` subprocess can open the hub."""
    return SecretBox(load_keys())


@pytest.fixture
def connections(hub: Hub, box: SecretBox) -> Connections:
    return Connections(hub, box)
