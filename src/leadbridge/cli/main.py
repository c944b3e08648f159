"""`leadbridge` commands. Each parses, calls a service, renders; failures are one clear line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leadbridge.cli.context import Context, console, err, friendly
from leadbridge.cli.crm import crm_plan_lines
from leadbridge.cli.crm import register as register_crm
from leadbridge.engine.apollo_push import ApolloPush, RunReport
from leadbridge.engine.errors import open_errors, retry_errors
from leadbridge.engine.plan import Action, Plan
from leadbridge.engine.status import hub_status
from leadbridge.engine.users import map_user, unmap_user
from leadbridge.hub.imports import ImportReport, import_companies, import_users
from leadbridge.policy.apollo_push import ApolloPushSettings
from leadbridge.settings import get_settings

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
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(connect_app, name="connect")
app.add_typer(import_app, name="import")
app.add_typer(users_app, name="users")
app.add_typer(errors_app, name="errors")

JOBS = ("apollo-push",)
register_crm(app, friendly, connect_app)
ConnectionOpt = Annotated[str | None, typer.Option("--connection", "-c", help="connection name")]


def _job(job: str) -> None:
    if job not in JOBS:
        err.print(f"[red]error:[/red] unknown job {job!r}; jobs: {', '.join(JOBS)}")
        raise typer.Exit(2)


def _push(ctx: Context, connection: str | None) -> ApolloPush:
    info = ctx.connections.get(connection, kind="apollo")
    return ApolloPush(ctx.hub, ctx.connections, info)


# --- init, sandbox, connect ---------------------------------------------------------------------


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


@sandbox_app.command("apollo")
def sandbox_apollo(
    port: Annotated[int, typer.Option(help="loopback port")] = 8780,
    users: Annotated[int, typer.Option(help="seeded Apollo users")] = 5,
    accounts: Annotated[int, typer.Option(help="seeded Apollo accounts")] = 0,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """Serve the Apollo sandbox on 127.0.0.1:PORT (prints its API key)."""
    from leadbridge.sandbox.apollo import run

    run(port=port, seed_users=users, seed_accounts=accounts, seed=seed)


@sandbox_app.command("salesforce")
def sandbox_salesforce(
    port: Annotated[int, typer.Option(help="loopback port")] = 8790,
    https: Annotated[bool, typer.Option(help="serve HTTPS with a generated CA")] = True,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    accounts: Annotated[
        int, typer.Option(help="seed this many accounts (and contacts, leads)")
    ] = 0,
) -> None:
    """Serve the Salesforce sandbox on 127.0.0.1:PORT (prints its CA file and a session id)."""
    from leadbridge.sandbox.salesforce import run as run_salesforce

    run_salesforce(port=port, https=https, seed=seed, accounts=accounts)


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
) -> None:
    """Connect an Apollo team with an API key, or with OAuth (--oauth)."""
    from leadbridge.engine.apollo_connect import connect_with_key, connect_with_oauth

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
                announce=lambda url: console.print(f"Open this URL to authorise:\n{url}"),
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


# --- import -------------------------------------------------------------------------------------


def _import_report(what: str, report: ImportReport) -> None:
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
        err.print(f"  row {number}: {reason}")
    if len(report.errors) > 50:
        err.print(f"  … and {len(report.errors) - 50} more")
    if report.errors:
        raise typer.Exit(1)


@import_app.command("companies")
@friendly
def import_companies_cmd(
    file: Path,
    strict: Annotated[bool, typer.Option(help="import nothing if any row is bad")] = False,
) -> None:
    """Import company leads (upsert by domain). Columns: name, domain, website, industry,
    employees, icp_fit, stage, customer, quarantine, owner (a hub user's e-mail)."""
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


# --- users --------------------------------------------------------------------------------------


@users_app.command("sync")
@friendly
def users_sync(connection: ConnectionOpt = None) -> None:
    """Fetch the Apollo team's users and map them to hub users by e-mail."""
    from leadbridge.engine.users import sync_users

    ctx = Context()
    push = _push(ctx, connection)

    async def go() -> None:
        client = push.client()
        try:
            result = await sync_users(ctx.hub, client, push.scope)
        finally:
            await client.aclose()
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
    ctx = Context()
    email, remote = map_user(ctx.hub, _push(ctx, connection).scope, hub_email, apollo_user)
    console.print(f"{email} -> Apollo user {remote}")


@users_app.command("unmap")
@friendly
def users_unmap(hub_email: str, connection: ConnectionOpt = None) -> None:
    """Remove a hub user's Apollo mapping (it is not re-mapped automatically)."""
    ctx = Context()
    count = unmap_user(ctx.hub, _push(ctx, connection).scope, hub_email)
    console.print(f"{hub_email}: {count} mapping(s) removed")


@users_app.command("list")
@friendly
def users_list(connection: ConnectionOpt = None) -> None:
    """Apollo users and the hub users they map to."""
    from sqlalchemy import select

    from leadbridge.hub.tables import User, UserLink

    ctx = Context()
    scope = _push(ctx, connection).scope
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


# --- settings, plan, run, explain ---------------------------------------------------------------


@app.command("settings")
@friendly
def settings_cmd(
    job: str,
    changes: Annotated[list[str] | None, typer.Argument(help="key=value to change")] = None,
    connection: ConnectionOpt = None,
) -> None:
    """Show or change a job's settings, e.g. `leadbridge settings apollo-push batch_size=50`."""
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


def _render_plan(plan: Plan, show: int) -> None:
    counts = plan.counts()
    console.print(
        "plan: "
        + ", ".join(f"{counts.get(a.value, 0)} {a.value}" for a in Action if counts.get(a.value))
    )
    reasons = plan.skip_reasons()
    if reasons:
        console.print("not pushed: " + ", ".join(f"{n} {key}" for key, n in reasons.most_common()))
    if show:
        table = Table("lead", "domain", "action", "reason")
        shown = [i for i in plan.items if i.action is not Action.UNCHANGED][:show]
        for item in shown:
            table.add_row(str(item.lead_id), item.domain or "-", item.action.value, item.reason)
        console.print(table)


@app.command()
@friendly
def plan(
    job: str,
    connection: ConnectionOpt = None,
    remote: Annotated[
        bool, typer.Option(help="read Apollo's accounts to tell adopt from create (API calls)")
    ] = False,
    show: Annotated[int, typer.Option(help="rows to list (0: counts only)")] = 30,
) -> None:
    """Print what a run would do now (create / adopt / update / skip, with the reason).
    JOB is apollo-push or a CRM sync of the policy (salesforce)."""
    if job != "apollo-push":
        *decisions, counts = crm_plan_lines(None, job)
        for line in decisions[:show]:
            console.print(line)
        console.print(counts)
        return
    _job(job)
    ctx = Context()
    push = _push(ctx, connection)
    domains = None
    if remote:
        from leadbridge.normalize import normalize_domain

        async def fetch() -> frozenset[str]:
            client = push.client()
            try:
                accounts = await client.all_accounts()
            finally:
                await client.aclose()
            return frozenset(d for a in accounts if (d := normalize_domain(a.get("domain"))))

        domains = asyncio.run(fetch())
    _render_plan(push.plan(domains), show)


def render_report(report: RunReport) -> None:
    c = report.counts
    console.print(
        f"run {report.run_id}: [bold]{report.status}[/bold] — "
        f"{report.qualified} qualified: {c['created']} created, {c['adopted']} adopted, "
        f"{c['updated']} updated, {c['unchanged']} unchanged, {c['failed']} failed; "
        f"{report.api_calls} API calls"
    )
    if report.skipped:
        console.print(
            "not pushed: " + ", ".join(f"{n} {k}" for k, n in report.skipped.most_common())
        )
    if c["detached"]:
        console.print(f"{c['detached']} linked leads stopped qualifying (accounts left as is)")
    if report.message:
        console.print(f"[yellow]{report.message}[/yellow]")
    if c["failed"]:
        console.print("see `leadbridge errors`")


@app.command()
@friendly
def run(job: str, connection: ConnectionOpt = None) -> None:
    """Run a job once, now, with a progress bar."""
    _job(job)
    ctx = Context()
    push = _push(ctx, connection)
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

        report = asyncio.run(push.run(progress))
    render_report(report)
    if report.status == "failed":
        raise typer.Exit(1)


@app.command()
@friendly
def explain(
    record: Annotated[str, typer.Argument(help="a company's domain or hub id")],
    connection: ConnectionOpt = None,
) -> None:
    """Why a company was or was not pushed: every criterion, and what a run would do."""
    from sqlalchemy import select

    from leadbridge.hub.tables import Company
    from leadbridge.normalize import normalize_domain

    if "@" in record:  # a person: the CRM sync's classifier
        from leadbridge.cli.crm import _people, crm_ctx

        (person_id,) = _people(crm_ctx(None, None), [record])
        for line in crm_plan_lines(None, None, person_id):
            console.print(line)
        return
    ctx = Context()
    push = _push(ctx, connection)
    with ctx.hub.session() as s:
        query = select(Company.id).where(Company.workspace_id == ctx.hub.workspace_id)
        if record.isdigit():
            query = query.where(Company.id == int(record))
        else:
            query = query.where(Company.domain == (normalize_domain(record) or record.lower()))
        lead_id = s.scalar(query)
    if lead_id is None:
        err.print(f"[red]error:[/red] no company {record!r} in the hub")
        raise typer.Exit(1)
    (item,) = push.plan(lead_ids=[lead_id]).items
    console.print(
        f"[bold]{item.name or '(no name)'}[/bold] ({item.domain or 'no domain'}), id {item.lead_id}"
    )
    for check in item.checks:
        mark = "[green]✓[/green]" if check.passed else "[red]✗[/red]"
        console.print(f"  {mark} {check.name}: {check.detail}")
    console.print(f"→ [bold]{item.action.value}[/bold]: {item.reason}")
    if item.remote_id:
        console.print(f"  linked to Apollo account {item.remote_id}")


# --- errors, status, serve, demo ----------------------------------------------------------------


@errors_app.callback()
@friendly
def errors(
    typer_ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="entries to show")] = 50,
) -> None:
    """List open errors (newest first), with a fix hint for each."""
    if typer_ctx.invoked_subcommand:
        return
    entries = open_errors(Context().hub, limit)
    if not entries:
        console.print("no open errors")
        return
    table = Table("id", "record", "class", "message", "how to fix")
    for e in entries:
        table.add_row(str(e.id), e.record, e.error_class, e.message, e.hint or "")
    console.print(table)


@errors_app.command("retry")
@friendly
def errors_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="error ids (default: all)")] = None,
) -> None:
    """Make failed records eligible again on the next run (after fixing the cause)."""
    count = retry_errors(Context().hub, ids or None)
    console.print(f"{count} record(s) will be retried on the next run")


@app.command()
@friendly
def status(
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="policy file: show why unlinked records are not pushed "
            "(default ./leadbridge.yaml when it exists)",
        ),
    ] = None,
) -> None:
    """Connections, link states, the CRM sync counts and the latest runs."""
    from leadbridge.cli.crm import crm_outlooks

    ctx = Context()
    st = hub_status(ctx.hub)
    outlooks, note = crm_outlooks(policy, [c.connection for c in st.crm])
    console.print(f"hub: {st.companies} companies, {st.people} people, {st.users} users")
    for c in ctx.connections.all():
        detail = f" — {c.health_detail}" if c.health_detail else ""
        scope = "org" if c.kind == "salesforce" else "team"
        console.print(
            f"connection {c.name} ({c.kind}, {scope} {c.remote_scope}): {c.health}{detail}"
        )
    if st.links:
        console.print("links: " + ", ".join(f"{n} {k}" for k, n in sorted(st.links.items())))
    if st.stale_links:
        console.print(f"{st.stale_links} linked leads no longer qualify")
    for crm in st.crm:
        if crm.setup_until is not None:
            state = f"setup window open until {crm.setup_until:%Y-%m-%d %H:%M} UTC"
        else:
            state = "setup window closed"
        pull_state = crm.initial_pull.replace("_", " ")
        org = crm.org or "unknown"
        console.print(f"{crm.connection} sync (org {org}): {state}, initial pull {pull_state}")
        outlook = outlooks.get(crm.connection)
        for label, hub_object, counts in (
            ("people", "person", crm.people),
            ("companies", "company", crm.companies),
        ):
            line = (
                f"  {label}: {counts.in_sync} in sync, {counts.failing} failing, "
                f"{counts.not_linked} not linked"
            )
            if outlook is None:
                if counts.not_linked:
                    line += " (excluded by the policy or not pushed yet)"
            else:
                excluded = outlook.excluded[hub_object]
                parts = [f"{sum(excluded.values())} excluded"]
                if outlook.to_push[hub_object]:
                    parts.append(f"{outlook.to_push[hub_object]} to push")
                if outlook.would_fail[hub_object]:
                    parts.append(f"{outlook.would_fail[hub_object]} would fail")
                line += f": {', '.join(parts)}"
                if excluded:
                    line += " (" + ", ".join(f"{n} {r}" for r, n in excluded.most_common()) + ")"
            console.print(line)
    if note:
        console.print(f"[yellow]{note}[/yellow]")
    dupes = st.potential_duplicates
    if dupes["people"] or dupes["companies"]:
        console.print(
            f"potential duplicates: {dupes['people']} people, {dupes['companies']} companies "
            "(see `leadbridge errors`)"
        )
    console.print(f"open errors: {st.open_errors}")
    for r in st.runs:
        console.print(
            f"run {r.id} {r.job} {r.started_at:%Y-%m-%d %H:%M} {r.status}: "
            f"{ {k: v for k, v in r.counts.items() if v} } {r.api_calls} calls"
        )


@app.command()
@friendly
def serve(
    bind: Annotated[str | None, typer.Option(help="host:port for the status API")] = None,
    tick: Annotated[float, typer.Option(help="seconds between schedule checks")] = 5.0,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="policy file for the CRM sync (default ./leadbridge.yaml if present)"
        ),
    ] = None,
) -> None:
    """Run the scheduler (every connection's jobs on their intervals) and the status API."""
    import logging

    import uvicorn

    from leadbridge.jobs.crm import CrmSchedule
    from leadbridge.jobs.runner import EmbeddedRunner
    from leadbridge.policy.loader import DEFAULT_PATH, load_policy
    from leadbridge.web.app import create_app

    ctx = Context()
    host, _, port = (bind or get_settings().bind).partition(":")
    crm = None
    if policy is None and not DEFAULT_PATH.exists():
        console.print(
            f"no {DEFAULT_PATH} here: the Salesforce sync is not scheduled (give one: --policy)"
        )
    else:
        crm = CrmSchedule(ctx.hub, ctx.connections, load_policy(policy))
        for line in crm.describe():
            console.print(line)
    runner = EmbeddedRunner(ctx.connections, tick=tick, crm=crm)
    logger, handler = logging.getLogger("leadbridge"), logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    if not logger.handlers:  # job progress and failures (never secrets) go to stderr
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)

    async def main() -> None:
        server = uvicorn.Server(
            uvicorn.Config(create_app(ctx.connections), host=host, port=int(port or 8765))
        )
        job = asyncio.create_task(runner.serve_forever())
        try:
            await server.serve()
        finally:
            runner.stop()
            await job

    console.print(f"leadbridge serving on http://{host}:{port}; jobs run on their schedules")
    try:
        asyncio.run(main())
    finally:
        logger.removeHandler(handler)


@app.command()
@friendly
def demo(
    companies: Annotated[int, typer.Option(help="companies to generate")] = 3000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
) -> None:
    """Start the Apollo sandbox, seed it and a fresh hub, and run the lead push end to end."""
    from leadbridge.demo import run_demo

    run_demo(companies=companies, seed=seed, console=console)


def main() -> None:
    app()
