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


def _group(name: str, help: str, *, bare_runs: bool = False) -> typer.Typer:
    """A sub-group: lazy; called bare, it shows its help, or runs its own callback."""
    return typer.Typer(
        cls=lazy_group(name),
        help=help,
        no_args_is_help=not bare_runs,
        invoke_without_command=bare_runs,
    )


sandbox_app = _group("sandbox", "Run a local emulator of an outside API.")
connect_app = _group("connect", "Connect an outside system.")
import_app = _group("import", "Import CSV files into the hub.")
users_app = _group("users", "Remote users and their mapping to hub users.")
errors_app = _group("errors", "The error log.", bare_runs=True)
policy_app = _group("policy", "The policy file.")
edit_app = _group("edit", "Change a hub record by hand.")
admin_app = _group("admin", "Accounts of the web app and API tokens.")
deals_app = _group("deals", "Deals in the hub and their sync with the CRMs.")
delete_app = _group("delete", "Delete a hub record (a tombstone).")
merge_app = _group("merge", "Merge two hub records into one.")
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
