"""The CLI as a person uses it: clear output, clear errors, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Company, utcnow
from leadbridge.sandbox.server import ServedApp
from leadbridge.settings import get_settings

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)


@pytest.fixture
def served(apollo_sandbox: Any) -> Any:
    apollo_sandbox.add_user(email="ann@team.example", first_name="Ann", last_name="Rep")
    with ServedApp(apollo_sandbox.app) as s:
        yield s, apollo_sandbox.issue_api_key(master=True)


def test_the_whole_flow_from_the_command_line(served: Any, tmp_path: Path) -> None:
    server, key = served
    assert lb("init").exit_code == 0
    (tmp_path / "users.csv").write_text("email,first_name\nann@team.example,Ann\n")
    assert "1 created" in lb("import", "users", str(tmp_path / "users.csv")).output
    (tmp_path / "c.csv").write_text(
        "name,domain,icp_fit,stage,owner\n"
        "Acme,acme.com,strong,evaluation,ann@team.example\n"
        "Nope,nope.com,not_a_fit,evaluation,ann@team.example\n"
        "Broken,,strong,evaluation,ann@team.example\n"
    )
    result = lb("import", "companies", str(tmp_path / "c.csv"))
    assert result.exit_code == 1  # a row was rejected: scripts notice
    assert "2 created" in result.output and "row 4: missing domain" in result.output

    assert lb("connect", "apollo", "--api-key", "wrong", "--base-url", server.url).exit_code == 1
    result = lb("connect", "apollo", "--api-key", key, "--base-url", server.url)
    assert result.exit_code == 0 and "connected" in result.output and key not in result.output

    hub = Hub.open(get_settings().database_url)
    with hub.session() as s:  # imported an hour ago: past the settle buffer
        s.execute(update(Company).values(updated_at=utcnow().replace(year=2025)))

    result = lb("plan", "apollo-push")
    assert "1 create" in result.output and "1 skip" in result.output
    assert "ICP fit is not_a_fit" in result.output

    world_account = lb("plan", "apollo-push", "--remote", "--show", "0").output
    assert "1 create" in world_account  # Apollo has no acme.com yet

    result = lb("explain", "https://www.nope.com/x")
    assert "✗ ICP fit" in result.output and "skip" in result.output

    result = lb("run", "apollo-push")
    assert result.exit_code == 0 and "1 created" in result.output

    assert "unchanged" in lb("explain", "acme.com").output
    status = lb("status").output
    assert "1 created" in status and "open errors: 0" in status
    assert "no open errors" in lb("errors").output


def test_settings_errors_name_the_key(served: Any) -> None:
    server, key = served
    lb("connect", "apollo", "--api-key", key, "--base-url", server.url)
    result = lb("settings", "apollo-push", "batch_sise=10")
    assert result.exit_code == 1 and "unknown setting 'batch_sise'" in result.output
    result = lb("settings", "apollo-push", "stage_threshold=closing")
    assert result.exit_code == 1 and "not one of" in result.output
    result = lb("settings", "apollo-push", "batch_size=500")
    assert result.exit_code == 1 and "batch_size" in result.output
    result = lb("settings", "apollo-push", "batch_size=50", "settle_minutes=0")
    assert result.exit_code == 0 and "batch_size = 50" in result.output


def test_commands_without_a_connection_say_what_to_do() -> None:
    result = lb("run", "apollo-push")
    assert result.exit_code == 1 and "leadbridge connect apollo" in result.output
    assert lb("run", "nonsense").exit_code == 2
    result = lb("import", "companies", "/nonexistent.csv")
    assert result.exit_code == 1 and "no such file" in result.output


def test_a_bad_database_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", "sqlite:////nonexistent-dir/x/hub.db")
    get_settings.cache_clear()
    result = lb("status")
    assert result.exit_code == 1 and "not usable" in result.output
