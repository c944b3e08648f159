"""The root `leadbridge` command and its groups; each cli module adds its commands to these.

Every group is a LazyGroup: it lists its commands from cli/commands.py and imports a command's
module only when that command runs, so this module must stay light (typer only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadbridge.cli.commands import ROOT
from leadbridge.cli.lazy import lazy_group

app = typer.Typer(
    cls=lazy_group(ROOT),
    help="leadbridge: a self-hosted sync hub for B2B sales data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(
    cls=lazy_group("sandbox"), help="Run a local emulator of an outside API.", no_args_is_help=True
)
connect_app = typer.Typer(
    cls=lazy_group("connect"), help="Connect an outside system.", no_args_is_help=True
)
import_app = typer.Typer(
    cls=lazy_group("import"), help="Import CSV files into the hub.", no_args_is_help=True
)
users_app = typer.Typer(
    cls=lazy_group("users"),
    help="Remote users and their mapping to hub users.",
    no_args_is_help=True,
)
errors_app = typer.Typer(
    cls=lazy_group("errors"), help="The error log.", invoke_without_command=True
)
policy_app = typer.Typer(cls=lazy_group("policy"), help="The policy file.", no_args_is_help=True)
edit_app = typer.Typer(
    cls=lazy_group("edit"), help="Change a hub record by hand.", no_args_is_help=True
)
admin_app = typer.Typer(
    cls=lazy_group("admin"), help="Accounts of the web app and API tokens.", no_args_is_help=True
)
deals_app = typer.Typer(
    cls=lazy_group("deals"),
    help="Deals in the hub and their sync with the CRMs.",
    no_args_is_help=True,
)
delete_app = typer.Typer(
    cls=lazy_group("delete"),
    help="Delete a hub record (a tombstone).",
    no_args_is_help=True,
)
merge_app = typer.Typer(
    cls=lazy_group("merge"),
    help="Merge two hub records into one.",
    no_args_is_help=True,
)
# The groups by name (ROOT: the root), for LazyGroup to find a command's registration.
GROUPS: dict[str, typer.Typer] = {
    ROOT: app,
    "sandbox": sandbox_app,
    "connect": connect_app,
    "import": import_app,
    "users": users_app,
    "errors": errors_app,
    "policy": policy_app,
    "edit": edit_app,
    "admin": admin_app,
    "delete": delete_app,
    "merge": merge_app,
    "deals": deals_app,
}
for _name, _group in GROUPS.items():
    if _name != ROOT:
        app.add_typer(_group, name=_name)


ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c", help="connection name")]
PolicyOpt = Annotated[Path | None, typer.Option("--policy", help="policy file (leadbridge.yaml)")]
SyncOpt = Annotated[str | None, typer.Option("--sync", help="sync name in the policy")]
