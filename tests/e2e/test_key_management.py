"""The encryption key as a user meets it: a lost key file is never silently replaced, a wrong
key is reported by `status` and /health, and `rotate-key` moves every credential to a new key
(a run still works; a process holding only the old key fails with a clear message)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from leadbridge.engine.systems.apollo_connect import connect_with_key
from leadbridge.hub.connections import Connections, sealed_credentials
from leadbridge.hub.db import Hub
from leadbridge.hub.imports import import_companies, import_users
from leadbridge.sandbox.server import ServedApp
from leadbridge.secrets import SecretBox, load_keys
from leadbridge.settings import get_settings
from leadbridge.web.app import create_app
from leadbridge.web.state import WebState

from .conftest import STAGES

REP = "ann@team.example"


class Shell:
    """`leadbridge` commands in fresh processes, in one working directory, with a key file
    (.leadbridge.key there) unless LEADBRIDGE_SECRET_KEY is given."""

    def __init__(self, cwd: Path, database_url: str) -> None:
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if k != "LEADBRIDGE_SECRET_KEY"}
        self.env.update(LEADBRIDGE_DATABASE_URL=database_url, COLUMNS="250")

    @property
    def key_file(self) -> Path:
        return self.cwd / ".leadbridge.key"

    def __call__(self, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if key is not None:
            env["LEADBRIDGE_SECRET_KEY"] = key
        done = subprocess.run(
            [sys.executable, "-m", "leadbridge", *args],
            env=env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        return done


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Shell:
    monkeypatch.delenv("LEADBRIDGE_SECRET_KEY")
    get_settings.cache_clear()
    return Shell(tmp_path, get_settings().database_url)


@pytest.fixture
def apollo(apollo_sandbox: Any, shell: Shell) -> Iterator[str]:
    """A served Apollo team with one rep; the hub knows the rep and one qualified company."""
    apollo_sandbox.add_user(email=REP, first_name="Ann", last_name="Rep")
    (shell.cwd / "users.csv").write_text(f"email\n{REP}\n")
    (shell.cwd / "companies.csv").write_text(
        "name,domain,icp_fit,stage,owner\nAcme,acme.com,strong,evaluation," + REP + "\n"
    )
    with ServedApp(apollo_sandbox.app) as served:
        yield served.url


def connect(hub: Hub, url: str, sandbox: Any) -> None:
    """`connect apollo`, the imports and the settings, done in this process for speed: with
    the key this test's environment configures (the key file, or LEADBRIDGE_SECRET_KEY)."""
    get_settings.cache_clear()
    connections = Connections(hub, SecretBox(load_keys()))
    key = sandbox.issue_api_key(master=True)
    info = asyncio.run(connect_with_key(connections, name="apollo", base_url=url, key=key))
    connections.update_settings(info.id, {"apollo_push": {"settle_minutes": 0}})
    cwd = Path.cwd()
    assert not import_users(hub, cwd / "users.csv").errors
    assert not import_companies(hub, cwd / "companies.csv", STAGES).errors


def health(hub: Hub) -> dict[str, str]:
    """/healthz's word on each connection (as a fresh `serve` with the current key sees it)."""
    get_settings.cache_clear()
    sealed = [c.name for c in sealed_credentials(hub)]
    app = create_app(WebState(Connections(hub, SecretBox(load_keys(sealed=sealed)))))
    body = TestClient(app, base_url="http://127.0.0.1").get("/healthz").json()
    return {c["name"]: c["health"] for c in body["connections"]}


def test_a_lost_key_file_is_reported_never_replaced(
    shell: Shell, apollo: str, apollo_sandbox: Any, hub: Hub
) -> None:
    assert shell("init").returncode == 0 and shell.key_file.exists()
    connect(hub, apollo, apollo_sandbox)
    original = shell.key_file.read_bytes()
    shell.key_file.unlink()

    status, run, init = shell("status"), shell("run", "apollo-push"), shell("init")

    assert not shell.key_file.exists(), "no new key may be made over sealed credentials"
    assert status.returncode == 0
    assert "connection apollo (apollo, team" in status.stdout
    assert "credentials unreadable — the key file" in status.stdout
    for refused in (run, init):
        assert refused.returncode == 1
        assert "is missing" in refused.stderr and "init --new-key" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert health(hub) == {"apollo": "credentials_unreadable"}

    shell.key_file.write_bytes(original)  # restored: everything works again
    assert "apollo (apollo, team" in shell("status").stdout
    assert "unreadable" not in shell("status").stdout
    assert health(hub) == {"apollo": "ok"}
    assert shell("run", "apollo-push").returncode == 0


def test_a_key_lost_for_good_a_new_key_then_a_reconnect(
    shell: Shell, apollo: str, apollo_sandbox: Any, hub: Hub
) -> None:
    connect(hub, apollo, apollo_sandbox)
    shell.key_file.unlink()

    fresh = shell("init", "--new-key")

    assert fresh.returncode == 0 and shell.key_file.exists(), fresh.stderr
    assert "connection apollo: its credentials cannot be opened with this key" in fresh.stdout
    assert "cannot be decrypted" in shell("status").stdout
    again = shell("init", "--new-key")
    assert again.returncode == 1 and "rotate-key" in again.stderr
    connect(hub, apollo, apollo_sandbox)
    assert "unreadable" not in shell("status").stdout
    assert shell("run", "apollo-push").returncode == 0


def test_a_wrong_key_shows_in_status_and_health(
    shell: Shell, apollo: str, apollo_sandbox: Any, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect(hub, apollo, apollo_sandbox)
    wrong = Fernet.generate_key().decode()

    status = shell("status", key=wrong)
    run = shell("run", "apollo-push", key=wrong)

    assert "credentials unreadable — stored credentials cannot be decrypted" in status.stdout
    assert run.returncode == 1 and "cannot be decrypted" in run.stderr
    monkeypatch.setenv("LEADBRIDGE_SECRET_KEY", wrong)
    assert health(hub) == {"apollo": "credentials_unreadable"}


def test_rotate_key_then_a_run_works_and_the_old_key_alone_fails(
    shell: Shell, apollo: str, apollo_sandbox: Any, hub: Hub
) -> None:
    connect(hub, apollo, apollo_sandbox)
    old_key = shell.key_file.read_text().strip()
    running = Connections(hub, SecretBox(load_keys()))  # like a `serve` started before
    connection_id = running.get("apollo").id
    running.credentials(connection_id)

    rotated = shell("rotate-key")

    assert rotated.returncode == 0, rotated.stderr
    assert "re-sealed the credentials of 1 connection(s)" in rotated.stdout
    assert "replace every copy of it" in rotated.stdout
    new_keys = shell.key_file.read_text().split()
    assert len(new_keys) == 1 and new_keys[0] != old_key  # the old key is gone
    assert shell.key_file.stat().st_mode & 0o777 == 0o600
    run = shell("run", "apollo-push")
    assert run.returncode == 0 and "1 created" in run.stdout, run.stdout + run.stderr
    assert [a["domain"] for a in apollo_sandbox.accounts()] == ["acme.com"]
    # The process started before the rotation follows the rewritten key file.
    assert running.credentials(connection_id)[0]["api_key"]

    stale = shell("run", "apollo-push", key=old_key)
    assert stale.returncode == 1
    assert "cannot be decrypted with the key(s) in LEADBRIDGE_SECRET_KEY" in stale.stderr
    assert "rotate-key" in stale.stderr and old_key not in stale.stderr
    assert "credentials unreadable" in shell("status", key=old_key).stdout


def test_rotate_a_key_from_the_environment_into_a_new_file(
    shell: Shell, apollo: str, apollo_sandbox: Any, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key = Fernet.generate_key().decode()
    monkeypatch.setenv("LEADBRIDGE_SECRET_KEY", old_key)
    connect(hub, apollo, apollo_sandbox)

    refused = shell("rotate-key", key=old_key)
    rotated = shell("rotate-key", "--new-key-file", "new.key", key=old_key)

    assert refused.returncode == 1 and "--new-key-file" in refused.stderr
    assert rotated.returncode == 0, rotated.stderr
    assert "Set LEADBRIDGE_SECRET_KEY to the new key" in rotated.stdout
    new_key = (shell.cwd / "new.key").read_text().strip()
    assert new_key not in rotated.stdout + rotated.stderr
    assert shell("run", "apollo-push", key=new_key).returncode == 0
    assert shell("run", "apollo-push", key=old_key).returncode == 1
    assert not shell.key_file.exists()
