"""The Apollo lead push: connect, users, settings, plan, run, explain of a company."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from leadbridge.cli.app import ConnectionOpt, app, connect_app, users_app
from leadbridge.cli.context import Context, console, err, friendly

if TYPE_CHECKING:
    from leadbridge.engine.leadpush.plan import Plan
    from leadbridge.engine.leadpush.run import LeadPush, RunReport

JOBS = ("apollo-push",)


def _job(job: str) -> None:
    if job not in JOBS:
        err.print(f"[red]error:[/red] unknown job {job!r}; jobs: {', '.join(JOBS)}")
        raise typer.Exit(2)


def apollo_push(ctx: Context, connection: str | None) -> LeadPush:
    from leadbridge.engine.leadpush.run import LeadPush

    info = ctx.connections.get(connection, kind="apollo")
    return LeadPush(ctx.hub, ctx.connections, info)


@connect_app.command("apollo")
@friendly
def connect_apollo(
    api_key: Annotated[
        str | None,
        typer.Option(envvar="LEADBRIDGE_APOLLO_API_KEY", help="API key (or the env variable)"),
    ] = None,
    base_url: Annotated[str, typer.Option(help="Apollo API base")] = "https://api.apollo.io",
    name: Annotated[str, typer.Option(help="connection name")] = "apollo",
    oauth: Annotated[bool, typer.Option(help="authorise with OAuth 2.0 instead of a key")] = False,
    client_id: Annotated[str | None, typer.Option(envvar="LEADBRIDGE_APOLLO_CLIENT_ID")] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar="LEADBRIDGE_APOLLO_CLIENT_SECRET")
    ] = None,
    redirect_port: Annotated[int, typer.Option(help="loopback port for the callback")] = 8766,
    code: Annotated[str | None, typer.Option(help="an authorization code already obtained")] = None,
    redirect_uri: Annotated[str | None, typer.Option(help="redirect URI used with --code")] = None,
    code_verifier: Annotated[
        str | None,
        typer.Option(
            envvar="LEADBRIDGE_APOLLO_CODE_VERIFIER",
            help="PKCE verifier of the authorize URL that --code came from",
        ),
    ] = None,
) -> None:
    """Connect an Apollo team with an API key, or with OAuth (--oauth)."""
    import asyncio

    from leadbridge.engine.systems.apollo_connect import connect_with_key, connect_with_oauth

    ctx = Context()
    if oauth:
        if not (client_id and client_secret):
            err.print("[red]error:[/red] --oauth needs --client-id and --client-secret")
            raise typer.Exit(2)
        info = asyncio.run(
            connect_with_oauth(
                ctx.connections,
                name=name,
                base_url=base_url,
                client_id=client_id,
                client_secret=client_secret,
                redirect_port=redirect_port,
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=code_verifier,
                announce=lambda url: console.print(
                    f"Open this URL to authorise:\n{url}",
                    soft_wrap=True,  # one unbroken line
                ),
            )
        )
    else:
        if not api_key:
            err.print("[red]error:[/red] give --api-key (or LEADBRIDGE_APOLLO_API_KEY), or --oauth")
            raise typer.Exit(2)
        info = asyncio.run(
            connect_with_key(ctx.connections, name=name, base_url=base_url, key=api_key)
        )
    console.print(f"connected [bold]{info.name}[/bold] to Apollo team {info.remote_scope}")


@users_app.command("sync")
@friendly
def users_sync(connection: ConnectionOpt = None) -> None:
    """Fetch the Apollo team's users and map them to hub users by e-mail."""
    import asyncio

    ctx = Context()
    push = apollo_push(ctx, connection)

    async def go() -> None:
        opened = await push.open()
        try:
            result = await push.sync_users(opened)
        finally:
            await opened.connector.aclose()
        console.print(
            f"{result.total} Apollo users ({result.added} new, {result.deleted} deleted), "
            f"{result.auto_mapped} mapped by e-mail"
        )

    asyncio.run(go())


@users_app.command("map")
@friendly
def users_map(
    hub_email: str,
    apollo_user: Annotated[str, typer.Argument(help="Apollo user id or e-mail")],
    connection: ConnectionOpt = None,
) -> None:
    """Map a hub user to an Apollo user by hand (overrides the e-mail match)."""
    from leadbridge.engine.users import map_user

    ctx = Context()
    push = apollo_push(ctx, connection)
    email, remote = map_user(
        ctx.hub, push.system.kind, push.scope, hub_email, apollo_user, push.label
    )
    console.print(f"{email} -> Apollo user {remote}")


@users_app.command("unmap")
@friendly
def users_unmap(hub_email: str, connection: ConnectionOpt = None) -> None:
    """Remove a hub user's Apollo mapping (it is not re-mapped automatically)."""
    from leadbridge.engine.users import unmap_user

    ctx = Context()
    push = apollo_push(ctx, connection)
    count = unmap_user(ctx.hub, push.system.kind, push.scope, hub_email)
    console.print(f"{hub_email}: {count} mapping(s) removed")


@users_app.command("list")
@friendly
def users_list(connection: ConnectionOpt = None) -> None:
    """Apollo users and the hub users they map to."""
    from sqlalchemy import select

    from leadbridge.hub.tables import User, UserLink

    ctx = Context()
    scope = apollo_push(ctx, connection).scope
    table = Table("Apollo user", "e-mail", "state", "hub user", "mapped by")
    with ctx.hub.session() as s:
        rows = s.execute(
            select(UserLink, User.email)
            .outerjoin(User, User.id == UserLink.hub_user_id)
            .where(UserLink.workspace_id == ctx.hub.workspace_id, UserLink.remote_scope == scope)
            .order_by(UserLink.remote_email)
        )
        for link, hub_email in rows:
            table.add_row(
                link.remote_user_id,
                link.remote_email or "",
                "deleted" if link.deleted else "active",
                hub_email or "-",
                link.mapped_by or "",
            )
    console.print(table)


@app.command("settings")
@friendly
def settings_cmd(
    job: str,
    changes: Annotated[list[str] | None, typer.Argument(help="key=value to change")] = None,
    connection: ConnectionOpt = None,
) -> None:
    """Show or change a job's settings, e.g. `leadbridge settings apollo-push batch_size=50`."""
    from leadbridge.policy.apollo_push import ApolloPushSettings

    _job(job)
    ctx = Context()
    info = ctx.connections.get(connection, kind="apollo")
    current = ApolloPushSettings.load(info.settings.get("apollo_push"))
    if changes:
        pairs = {}
        for change in changes:
            key, sep, value = change.partition("=")
            if not sep:
                err.print(f"[red]error:[/red] {change!r} is not key=value")
                raise typer.Exit(2)
            pairs[key.strip()] = value.strip()
        current = current.with_changes(pairs)
        ctx.connections.update_settings(
            info.id, {**info.settings, "apollo_push": current.model_dump(mode="json")}
        )
    for key, value in current.model_dump(mode="json").items():
        console.print(f"{key} = {value}")


def _render_plan(plan: Plan, show: int, everything: bool = False) -> None:
    from leadbridge.engine.leadpush.plan import Action

    # Changes first, then what waits or is skipped (with the reason), unchanged links last.
    order = [Action.CREATE, Action.ADOPT, Action.UPDATE, Action.DETACH, Action.WAIT, Action.SKIP]
    counts = plan.counts()
    console.print(
        "plan: "
        + ", ".join(f"{counts.get(a.value, 0)} {a.value}" for a in Action if counts.get(a.value))
    )
    reasons = plan.skip_reasons()
    if reasons:
        console.print("not pushed: " + ", ".join(f"{n} {key}" for key, n in reasons.most_common()))
    if not show:
        return
    listed = sorted(
        (i for i in plan.items if everything or i.action is not Action.UNCHANGED),
        key=lambda i: order.index(i.action) if i.action in order else len(order),
    )
    if listed:
        table = Table("lead", "domain", "action", "reason")
        for item in listed[:show]:
            table.add_row(
                str(item.lead_id), Text(item.domain or "-"), item.action.value, Text(item.reason)
            )
        console.print(table)
    if len(listed) > show:
        console.print(f"… {len(listed) - show} more (use --show {len(listed)})")
    unchanged = counts.get(Action.UNCHANGED.value, 0)
    if unchanged and not everything:
        console.print(f"{unchanged} unchanged, not listed (--all lists them)")


def render_report(report: RunReport) -> None:
    from leadbridge.engine.leadpush.run import report_lines

    for line in report_lines(report):
        console.print(line)


@app.command()
@friendly
def run(job: str, connection: ConnectionOpt = None) -> None:
    """Run a job once, now, with a progress bar."""
    import asyncio

    from leadbridge.jobs.tasks import lead_push_task

    _job(job)
    ctx = Context()
    push = apollo_push(ctx, connection)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("pushing to Apollo", total=None)

        def progress(_stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or 1)

        report = asyncio.run(lead_push_task(push, progress))
    render_report(report)
    if report.status == "failed":
        raise typer.Exit(1)
