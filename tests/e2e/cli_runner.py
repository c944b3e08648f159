"""Running `leadbridge` commands in-process as a person would: a wide terminal (Rich wraps at 80
columns otherwise) and never a traceback in what they print."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

import leadbridge.cli.context  # noqa: F401 — see below
from leadbridge.cli.main import app

# The CLI's consoles are made when cli/context.py is first imported (lazily, by the first command
# that runs). Made here, while COLUMNS is unset, Rich reads the width at every print, so a test
# can set COLUMNS; made under a test's COLUMNS, they would keep that width for the whole session.

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def lb(*args: str, input: str | None = None) -> Any:
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result
