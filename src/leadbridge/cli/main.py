"""`leadbridge`: the root command with every group's commands registered (one module a group)."""

from __future__ import annotations

import importlib

from leadbridge.cli.app import app

# Registration order is the order `leadbridge --help` lists the commands in.
for _group in (
    "hub",
    "edit",
    "remove",
    "sandbox",
    "apollo",
    "crm",
    "hubspot",
    "deals",
    "explain",
    "audit",
    "ops",
    "scale",
    "admin",
):
    importlib.import_module(f"leadbridge.cli.{_group}")

__all__ = ["app", "main"]


def main() -> None:
    app()
