"""The CLI's command table (cli/commands.py) against the commands the modules really register,
and what `leadbridge --help` leaves unimported (the start stays fast: no engine, no hub)."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest
import typer.main

from leadbridge.cli.app import GROUPS
from leadbridge.cli.commands import COMMANDS, ROOT
from leadbridge.cli.context import USER_ERRORS, friendly, user_error
from leadbridge.cli.lazy import load_command

HEAVY = (
    "sqlalchemy",
    "httpx",
    "pydantic_settings",
    "cryptography",
    "leadbridge.engine",
    "leadbridge.hub",
    "leadbridge.connectors",
    "leadbridge.jobs",
    "leadbridge.policy",
)
# The root's own modules: the group classes, the table, the entry point.
NO_COMMAND_MODULE = [f"leadbridge.cli.{m}" for m in ("app", "commands", "lazy", "main")]
TABLE = [(path, name) for path, commands in COMMANDS.items() for name in commands]


def first_paragraph(command: typer.main._click.Command) -> str:
    return inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]


def registered_names(group: typer.Typer) -> set[str]:
    names = {info.name for info in group.registered_groups}
    for info in group.registered_commands:
        assert info.callback is not None
        names.add(info.name or typer.main.get_command_name(info.callback.__name__))
    return {name for name in names if name}


@pytest.mark.parametrize(("path", "name"), TABLE, ids=[f"{p or 'root'}:{n}" for p, n in TABLE])
def test_every_table_entry_is_a_command_with_the_tables_help_line(path: str, name: str) -> None:
    command = load_command(path, name)
    assert command.name == name
    assert first_paragraph(command) == COMMANDS[path][name].help


def test_every_registered_command_is_in_the_table() -> None:
    modules = {entry.module for table in COMMANDS.values() for entry in table.values()}
    for module in sorted(m for m in modules if m):
        importlib.import_module(f"leadbridge.cli.{module}")
    assert set(GROUPS) == set(COMMANDS)
    for path, group in GROUPS.items():
        assert registered_names(group) == set(COMMANDS[path]), path
        for name in registered_names(group):
            if path != ROOT or name not in GROUPS:  # a group's own module: its callback
                assert load_command(path, name).callback is not None


def test_every_user_error_names_an_exception_class() -> None:
    for module, name in USER_ERRORS:
        error = getattr(importlib.import_module(module), name)
        assert issubclass(error, Exception)
        assert user_error(error.__new__(error))
    assert not user_error(ValueError("not one of ours"))


def test_friendly_prints_a_user_error_as_one_line_and_lets_a_bug_through(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from leadbridge.policy.loader import PolicyError

    @friendly
    def refused() -> None:
        raise PolicyError("leadbridge.yaml", ["line 3: unknown key 'x'"])

    with pytest.raises(typer.Exit) as exit:
        refused()
    assert exit.value.exit_code == 1
    assert capsys.readouterr().err.strip() == "error: leadbridge.yaml: line 3: unknown key 'x'"

    @friendly
    def broken() -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        broken()


def modules_after(args: list[str]) -> dict[str, object]:
    """Run `leadbridge ARGS` in a fresh interpreter; what it printed and which heavy modules
    (and leadbridge.cli modules) it had imported."""
    script = f"""
import json, sys
from leadbridge.cli.main import app
try:
    app({args!r}, prog_name="leadbridge")
except SystemExit as exit:
    code = exit.code
heavy = [m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in {HEAVY!r})]
cli = sorted(m for m in sys.modules if m.startswith("leadbridge.cli."))
print(json.dumps({{"code": code, "heavy": sorted(heavy), "cli": cli}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "100", "PATH": ""},
    )
    *shown, last = done.stdout.splitlines()
    result: dict[str, object] = json.loads(last)
    result["shown"] = "\n".join(shown)
    return result


def test_help_lists_every_command_without_importing_the_engine_or_a_command_module() -> None:
    result = modules_after(["--help"])
    assert result["code"] == 0
    for name in COMMANDS[ROOT]:
        assert f" {name} " in str(result["shown"])
    assert result["heavy"] == []
    assert result["cli"] == NO_COMMAND_MODULE


def test_a_groups_help_imports_none_of_its_commands_modules() -> None:
    result = modules_after(["connect", "--help"])
    assert result["code"] == 0
    assert " salesforce " in str(result["shown"])
    assert result["heavy"] == []
    assert result["cli"] == NO_COMMAND_MODULE


def test_a_commands_help_imports_only_its_own_module() -> None:
    result = modules_after(["sandbox", "apollo", "--help"])
    assert result["code"] == 0
    assert "--port" in str(result["shown"])
    assert "leadbridge.cli.sandbox" in result["cli"]  # type: ignore[operator]
    assert "leadbridge.cli.crm" not in result["cli"]  # type: ignore[operator]
