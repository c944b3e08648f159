"""An Apollo that echoes the API key back in its error bodies: the key appears nowhere we
produce output — the terminal, the error log, /api/errors, /api/status, the serve log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from leadbridge.hub.connections import Connections
from leadbridge.hub.tables import Connection, ErrorLogEntry, utcnow
from leadbridge.sandbox.server import free_port
from leadbridge.secrets import SECRET_VALUES, SecretBox, load_keys
from leadbridge.settings import get_settings

from .conftest import World, lead
from .web_world import make_web

BULK_CREATE = "POST /api/v1/accounts/bulk_create"
USERS_SEARCH = "GET /api/v1/users/search"


def the_key(world: World) -> str:
    (key,) = world.sandbox.api_keys
    return str(key)


def leadbridge(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A fresh process, as a user runs it: it knows the key only by opening the connection."""
    env = {**os.environ, "LEADBRIDGE_DATABASE_URL": get_settings().database_url}
    return subprocess.run(
        [sys.executable, "-m", "leadbridge", *args],
        env={**env, "COLUMNS": "250"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_echoed_key_reaches_no_terminal_and_no_error_row(world: World) -> None:
    key = the_key(world)
    world.companies([lead(f"echo{i}.com") for i in range(3)])
    # Every bulk_create of the run (the batch, then each item on its own) is refused so.
    world.sandbox.knobs.fail_next(
        10, 422, {"error": "Parameters misconfigured."}, route=BULK_CREATE, echo_headers=True
    )

    run = leadbridge("run", "apollo-push", cwd=world.tmp)
    errors = leadbridge("errors", cwd=world.tmp)

    assert "3 failed" in run.stdout, run.stdout + run.stderr
    assert "HTTP_X_API_KEY" in errors.stdout  # the echo is there, shown ...
    for output in (run.stdout, run.stderr, errors.stdout, errors.stderr):
        assert key not in output  # ... without the key
    with world.hub.session() as s:
        messages = [e.message for e in s.scalars(select(ErrorLogEntry))]
    assert len(messages) == 3 and all('"HTTP_X_API_KEY"=>"***"' in m for m in messages)
    assert not any(key in m for m in messages)


def test_the_web_api_masks_what_older_rows_and_health_details_hold(world: World) -> None:
    key = the_key(world)
    with world.hub.session() as s:  # written before masking existed, or by another tool
        s.add(
            ErrorLogEntry(
                workspace_id=world.hub.workspace_id,
                job="apollo-push",
                error_class="permanent",
                message=f"HTTP 422: bad request (key {key})",
                hint=f"check the key {key}",
                created_at=utcnow(),
            )
        )
        row = s.scalar(select(Connection))
        assert row is not None
        row.health, row.health_detail = "auth_failed", f"rejected {key}"
    SECRET_VALUES.clear()  # a fresh `serve`: it knows the key only by opening the connection
    web = make_web(Connections(world.hub, SecretBox(load_keys())))

    errors = web.api("GET", "/api/v1/errors", token="read")
    status = web.api("GET", "/api/v1/status", token="read")

    assert errors.status_code == status.status_code == 200
    assert "(key ***)" in errors.text and key not in errors.text
    assert "rejected ***" in status.text and key not in status.text


def test_the_serve_log_shows_a_crash_with_the_echo_but_not_the_key(world: World) -> None:
    key = the_key(world)
    world.sandbox.knobs.fail_next(
        1, 422, {"error": "Parameters misconfigured."}, route=USERS_SEARCH, echo_headers=True
    )
    env = {**os.environ, "LEADBRIDGE_DATABASE_URL": get_settings().database_url}
    serve = subprocess.Popen(
        [sys.executable, "-m", "leadbridge", "serve", "--bind", f"127.0.0.1:{free_port()}"],
        env=env,
        cwd=world.tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while world.sandbox.calls[USERS_SEARCH] < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # the fixture's own sync made call 1; serve's run makes call 2
        time.sleep(1.0)  # the crash is logged right after the answer
    finally:
        serve.terminate()
        out, err = serve.communicate(timeout=30)
    assert "apollo-push on apollo crashed" in err, err
    assert "HTTP_X_API_KEY" in err and key not in err and key not in out
