"""The sandboxes as processes: `leadbridge sandbox salesforce|apollo` print what a client needs
at once (a script reads them through a pipe), the Salesforce sandbox keeps no private key on
disk once its server has loaded it, and no TLS file outlives the sandbox that made it."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import free_port

CLI = [sys.executable, "-c", "from leadbridge.cli.main import main; main()"]


@contextmanager
def running(*args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [*CLI, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": ""},  # the pipe is block-buffered by default
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def line_with(process: subprocess.Popen[str], marker: str, timeout: float = 30) -> str:
    """The first line of output holding `marker`, read while the process still runs."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if marker in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(
        f"no line with {marker!r}; stderr: {process.stderr.read() if process.stderr else ''}"
    )


def wait_up(url: str, **kwargs: object) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, trust_env=False, timeout=5, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.1)


def test_a_closed_sandbox_leaves_no_tls_files() -> None:
    sb = SalesforceSandbox()
    cert, key, _ = sb.tls_files()
    assert key.exists() and key.stat().st_mode & 0o077 == 0  # private to its owner
    sb.close()
    assert not cert.parent.exists()
    with SalesforceSandbox() as other:
        directory = other.tls_files()[0].parent
    assert not directory.exists()


def test_a_process_that_exits_removes_its_tls_files() -> None:
    code = (
        "from leadbridge.sandbox.salesforce import SalesforceSandbox\n"
        "sb = SalesforceSandbox()\n"
        "print(sb.tls_files()[1])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    key = Path(done.stdout.strip())
    assert key.name == "server.key" and not key.parent.exists()


@pytest.mark.slow
def test_the_salesforce_sandbox_command_drops_its_key_and_cleans_up() -> None:
    port = free_port()
    with running("sandbox", "salesforce", "--port", str(port)) as process:
        ca = Path(line_with(process, "CA file").rsplit(": ", 1)[1].strip())
        session = line_with(process, "session id:").rsplit(": ", 1)[1].strip()
        trust = ssl.create_default_context(cafile=str(ca))
        versions = wait_up(f"https://localhost:{port}/services/data/", verify=trust)
        assert versions.status_code == 200
        assert not (ca.parent / "server.key").exists()  # in the server's memory only
        limits = httpx.get(
            f"https://localhost:{port}/services/data/v59.0/limits/",
            headers={"Authorization": f"Bearer {session}"},
            verify=trust,
            trust_env=False,
        )
        assert limits.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    assert not ca.parent.exists()


@pytest.mark.slow
def test_the_apollo_sandbox_command_prints_its_key_at_once_through_a_pipe() -> None:
    port = free_port()
    with running("sandbox", "apollo", "--port", str(port), "--users", "2") as process:
        key = line_with(process, "API key (master):").rsplit(": ", 1)[1].strip()
        line_with(process, "--api-key")  # the last line, flushed before the server blocks
        answer = wait_up(f"http://127.0.0.1:{port}/api/v1/users/search", headers={"x-api-key": key})
        assert answer.status_code == 200 and len(answer.json()["users"]) == 3  # admin + 2
        assert process.poll() is None
