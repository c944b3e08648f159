"""The hub's front door: init, the encryption key, CSV imports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadbridge.cli.app import app, import_app
from leadbridge.cli.context import Context, console, err, friendly
from leadbridge.hub.icp_values import icp_help
from leadbridge.secrets.env import ENV

if TYPE_CHECKING:
    from leadbridge.hub.imports import ImportReport


@app.command()
@friendly
def init(
    new_key: Annotated[
        bool,
        typer.Option(
            "--new-key",
            help="make a new key file when the old key is lost for good (connections sealed "
            "with the old key must then be reconnected)",
        ),
    ] = False,
) -> None:
    """Create (or upgrade) the hub database and the encryption key."""
    from leadbridge.secrets import SecretKeyError
    from leadbridge.settings import get_settings

    ctx = Context()
    ctx.hub.workspace_id  # noqa: B018 — creates the default workspace
    settings = get_settings()
    if new_key:
        _new_key_file(settings.secret_key is not None, settings.key_file)
    ring = ctx.connections.box.ring  # creates the key file when nothing is sealed yet
    if ring.problem:
        raise SecretKeyError(ring.problem)
    console.print(f"hub ready: {settings.database_url}")
    if not settings.secret_key:
        console.print(f"credentials are encrypted with the key in {settings.key_file.resolve()}")
    for c in ctx.connections.all():
        if c.id in ctx.credential_problems:
            console.print(
                f"[yellow]connection {c.name}: its credentials cannot be opened with this key; "
                f"reconnect it (`leadbridge connect {c.kind}`)[/yellow]"
            )


def _new_key_file(env_key: bool, path: Path) -> None:
    from cryptography.fernet import Fernet

    from leadbridge.secrets import SecretKeyError, create_key_file

    if env_key:
        raise SecretKeyError(
            f"{ENV} is set, so that is the key: set it to a new key instead "
            "(`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`), or unset it to use a key file"
        )
    if path.exists():
        raise SecretKeyError(
            f"the key file {path} exists; `leadbridge rotate-key` replaces a key you still have"
        )
    create_key_file(path, [Fernet.generate_key()])
    console.print(f"a new key is in {path.resolve()}")


@app.command("rotate-key")
@friendly
def rotate_key_cmd(
    new_key_file: Annotated[
        Path | None,
        typer.Option(help=f"where to write the new key when the current one comes from {ENV}"),
    ] = None,
) -> None:
    """Seal every connection's credentials with a new key, then drop the old key."""
    from leadbridge.engine.key_rotation import rotate_key

    rotation = rotate_key(Context().connections, new_key_file=new_key_file)
    console.print(
        f"re-sealed the credentials of {len(rotation.resealed)} connection(s) with a new key"
    )
    where = rotation.key_file.resolve()
    if rotation.from_env:
        console.print(
            f"the new key is in {where} (mode 0600); the old {ENV} opens nothing any more. "
            f"Set {ENV} to the new key wherever leadbridge runs on this hub (services, "
            "workers, CI secrets), restart those processes, then delete the file."
        )
    else:
        console.print(
            f"the new key replaced the old one in {where}. leadbridge processes reading that "
            "file follow by themselves; replace every copy of it (backups, other machines "
            "using this hub): the old key opens nothing any more."
        )


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
    from leadbridge.hub.imports import import_companies

    ctx = Context()
    _import_report("companies", import_companies(ctx.hub, file, lead_stages(ctx), strict=strict))


def lead_stages(ctx: Context) -> list[str]:
    """The stage ladder of the lead push (the connection's settings, else the default)."""
    from leadbridge.policy.apollo_push import ApolloPushSettings

    try:
        return ApolloPushSettings.load(
            ctx.connections.get(kind="apollo").settings.get("apollo_push")
        ).stages
    except Exception:  # no connection yet: the default ladder
        return ApolloPushSettings().stages


PEOPLE_HELP = """Import people (upsert by e-mail); bad rows are listed, good ones kept.

Columns (header names matched loosely): email (required), email_status (verified or
unverified; blank: unverified — an unverified address is not pushed unless the policy says
push_unverified_emails), first_name, last_name, title, phone, mobile_phone, company_domain or
company (the person's company: found by domain, else by name, else made), stage (contact
stage), lead_status, owner (a hub user's e-mail), source, and custom.<name> for the policy's
custom fields. A change reaches the CRMs within one tick of `leadbridge serve`.
"""


@import_app.command("people", help=PEOPLE_HELP)
@friendly
def import_people_cmd(
    file: Path,
    strict: Annotated[bool, typer.Option(help="import nothing if any row is bad")] = False,
) -> None:
    from leadbridge.hub.people import import_people

    _import_report("people", import_people(Context().hub, file, strict=strict))


@import_app.command("users")
@friendly
def import_users_cmd(
    file: Path,
    strict: Annotated[bool, typer.Option(help="import nothing if any row is bad")] = False,
) -> None:
    """Import hub users (upsert by e-mail). Columns: email, first_name, last_name, active."""
    from leadbridge.hub.imports import import_users

    _import_report("users", import_users(Context().hub, file, strict=strict))


ACTIVITIES_HELP = """Import activities (e-mails, calls, meetings, notes, tasks, summaries), once
each by their id; bad rows are listed, good ones kept. They are pushed to the CRMs, never pulled.

Columns (header names matched loosely): kind (email, call, meeting, note, task, summary), id
(the source's id: a re-import updates, never duplicates), source (blank: import), email (a hub
person's e-mail) and/or domain (a hub company's domain; blank: the person's company), deal, date,
owner (a hub user's e-mail), subject, body; e-mail: direction (outgoing or incoming), from, to,
cc, sequence (sent from a sequence), sent_from_hub, thread; call: outcome, duration (seconds),
recording; meeting: start, end, location, attendees; task: due, status (open or completed).
"""


@import_app.command("activities", help=ACTIVITIES_HELP)
@friendly
def import_activities_cmd(
    file: Path,
    strict: Annotated[bool, typer.Option(help="import nothing if any row is bad")] = False,
) -> None:
    from leadbridge.hub.activities import import_activities

    _import_report("activities", import_activities(Context().hub, file, strict=strict))
