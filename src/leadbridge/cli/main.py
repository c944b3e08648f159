"""`leadbridge`: the root command. It lists its commands from cli/commands.py and imports a
command's module only when that command runs (cli/lazy.py): `leadbridge --help` starts fast."""

from __future__ import annotations

from leadbridge.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
