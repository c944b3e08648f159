"""The root `leadbridge` command and its groups; each cli module adds its commands to these."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="leadbridge: a self-hosted sync hub for B2B sales data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Run a local emulator of an outside API.", no_args_is_help=True)
connect_app = typer.Typer(help="Connect an outside system.", no_args_is_help=True)
import_app = typer.Typer(help="Import CSV files into the hub.", no_args_is_help=True)
users_app = typer.Typer(help="Remote users and their mapping to hub users.", no_args_is_help=True)
errors_app = typer.Typer(help="The error log.", invoke_without_command=True)
policy_app = typer.Typer(help="The policy file.", no_args_is_help=True)
edit_app = typer.Typer(help="Change a hub record by hand.", no_args_is_help=True)
admin_app = typer.Typer(help="Accounts of the web app and API tokens.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(connect_app, name="connect")
app.add_typer(import_app, name="import")
app.add_typer(users_app, name="users")
app.add_typer(errors_app, name="errors")
app.add_typer(policy_app, name="policy")
app.add_typer(edit_app, name="edit")
app.add_typer(admin_app, name="admin")

ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c", help="connection name")]
PolicyOpt = Annotated[Path | None, typer.Option("--policy", help="policy file (leadbridge.yaml)")]
SyncOpt = Annotated[str | None, typer.Option("--sync", help="sync name in the policy")]
