"""The hub's front door: init and CSV imports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from leadbridge.cli.app import app, import_app
from leadbridge.cli.context import Context, console, err, friendly
from leadbridge.hub.import_values import icp_help
from leadbridge.hub.imports import ImportReport, import_companies, import_users
from leadbridge.policy.apollo_push import ApolloPushSettings
from leadbridge.settings import get_settings


@app.command()
@friendly
def init() -> None:
    """Create (or upgrade) the hub database and the encryption key."""
    ctx = Context()
    ctx.hub.workspace_id  # noqa: B018 — creates the default workspace
    ctx.connections  # noqa: B018 — creates the key file when no key is configured
    settings = get_settings()
    console.print(f"hub ready: {settings.database_url}")
    if not settings.secret_key:
        console.print(f"credentials are encrypted with the key in {settings.key_file.resolve()}")


def _import_report(what: str, report: ImportReport) -> None:
    if report.read_as:
        console.print(f"read as {report.read_as}")
    if not report.written:
        console.print(
            f"[yellow]nothing imported[/yellow] (--strict and {len(report.errors)} bad rows)"
        )
    else:
        console.print(
            f"{what}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.errors)} rejected"
        )
    for number, reason in report.errors[:50]:
        err.print(f"  row {number}: {reason}", markup=False)  # reasons quote the file
    if len(report.errors) > 50:
        err.print(f"  … and {len(report.errors) - 50} more")
    if report.errors:
        raise typer.Exit(1)


COMPANIES_HELP = f"""Import company leads (upsert by domain); bad rows are listed, good ones kept.

Columns (header names matched loosely; comma, semicolon, tab or pipe separated; UTF-8,
UTF-16 or cp1252/latin-1): name, domain (or website), industry, employees, icp_fit, stage,
customer, quarantine, owner (a hub user's e-mail), lead (true/false: whether the company is a
company lead, the first criterion of the push; blank or no column: true).

icp_fit accepts: {icp_help()}.
"""


@import_app.command("companies", help=COMPANIES_HELP)
@friendly
def import_companies_cmd(
    file: Path,
    strict: Annotated[bool, typer.Option(help="import nothing if any row is bad")] = False,
) -> None:
    ctx = Context()
    stages = ApolloPushSettings().stages
    try:
        stages = ApolloPushSettings.load(
            ctx.connections.get(kind="apollo").settings.get("apollo_push")
        ).stages
    except Exception:  # no connection yet: the default ladder
        pass
    _import_report("companies", import_companies(ctx.hub, file, stages, strict=strict))


@import_app.command("users")
@friendly
def import_users_cmd(
    file: Path,
    strict: Annotated[bool, typer.Option(help="import nothing if any row is bad")] = False,
) -> None:
    """Import hub users (upsert by e-mail). Columns: email, first_name, last_name, active."""
    _import_report("users", import_users(Context().hub, file, strict=strict))
