"""`leadbridge admin …`: accounts of the web app (argon2id password hashes) and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from leadbridge.cli.app import admin_app
from leadbridge.cli.context import Context, console, friendly


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


@admin_app.command("create-user")
@friendly
def create_user_cmd(
    username: Annotated[str, typer.Argument(help="the user name to sign in with")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create an account of the web app (the password is asked for, never an argument)."""
    from leadbridge.web.accounts import create_user

    account = create_user(Context().hub, username, _password(password_stdin))
    console.print(
        f"created user {account.username}; sign in at the address `leadbridge serve` prints"
    )


@admin_app.command("create-token")
@friendly
def create_token_cmd(
    username: Annotated[str, typer.Argument(help="the user the token acts for")],
    scope: Annotated[str, typer.Option(help="read or write")] = "read",
    name: Annotated[str, typer.Option(help="a name to tell tokens apart")] = "cli",
) -> None:
    """Create a REST API token (printed once; only its hash is kept)."""
    from leadbridge.web.accounts import create_token

    token = create_token(Context().hub, username, name, scope)
    # Printed to stdout alone, so `TOKEN=$(leadbridge admin create-token …)` works.
    print(token)
