"""Operating the hub: the error log, status, serve, demo."""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from leadbridge.cli.app import app, errors_app
from leadbridge.cli.context import Context, console, err, friendly

if TYPE_CHECKING:
    from leadbridge.engine.errors import OpenError


@errors_app.callback()
@friendly
def errors(
    typer_ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="entries to show (0: all)")] = 50,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="write every open error to this CSV file (safe to open in a spreadsheet)"
        ),
    ] = None,
) -> None:
    """List open errors (the most recently seen first), with a fix hint for each."""
    from leadbridge.engine.errors import open_errors

    if typer_ctx.invoked_subcommand:
        return
    if csv_file is not None:
        _export_errors(csv_file)
        return
    entries = open_errors(Context().hub, limit + 1 if limit > 0 else None)
    if not entries:
        console.print("no open errors")
        return
    shown = entries[:limit] if limit > 0 else entries
    console.print(error_table(shown))
    if len(entries) > len(shown):
        console.print(
            f"the {len(shown)} most recently seen are shown: `--limit 0` lists all, "
            "`--csv FILE` writes all"
        )


def error_table(entries: list[OpenError]) -> Table:
    """One row per problem. What went wrong and what to do share one column, so the table
    stays readable in 100 columns; cells are plain text (a message may hold [brackets])."""
    table = Table(box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False, show_edge=False)
    table.add_column("id", no_wrap=True, justify="right")
    table.add_column("record", overflow="fold", max_width=24)
    table.add_column("field", overflow="fold", max_width=16)
    table.add_column("class", max_width=10)
    table.add_column("seen (UTC)", max_width=10)
    table.add_column("problem → how to fix", overflow="fold", ratio=1)
    for e in entries:
        problem = Text(e.message)
        if e.hint:
            problem.append("\n→ " + e.hint, style="green")
        table.add_row(
            str(e.id),
            Text(e.record),
            Text(e.field or "-"),
            Text(e.error_class.replace("_", " ")),
            f"{e.count}×, last {e.last_seen_at:%Y-%m-%d %H:%M}",
            problem,
        )
    return table


def _export_errors(path: Path) -> None:
    from leadbridge.engine.errors import open_errors
    from leadbridge.hub.csv_output import write_csv

    entries = open_errors(Context().hub, limit=None)
    header = (
        "id", "job", "created_at", "last_seen_at", "count", "record", "field", "class",
        "message", "how to fix",
    )  # fmt: skip
    rows = (
        (
            e.id,
            e.job,
            e.created_at.isoformat(),
            e.last_seen_at.isoformat(),
            e.count,
            e.record,
            e.field,
            e.error_class,
            e.message,
            e.hint,
        )
        for e in entries
    )
    count = write_csv(path, header, rows)
    console.print(f"{count} open error(s) written to {path}", markup=False)


@errors_app.command("retry")
@friendly
def errors_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="error ids (default: all)")] = None,
) -> None:
    """Make failed records eligible again on the next run (after fixing the cause)."""
    from leadbridge.engine.errors import retry_errors

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
    from leadbridge.engine.audit import audit_warning
    from leadbridge.engine.status import hub_status
    from leadbridge.engine.systems import scope_label

    ctx = Context()
    st = hub_status(ctx.hub)
    outlooks, note = crm_outlooks(policy, [c.connection for c in st.crm])
    console.print(f"hub: {st.companies} companies, {st.people} people, {st.users} users")
    if st.deals:
        console.print(f"hub deals: {st.deals}")
    infos = {c.name: c for c in ctx.connections.all()}
    for c in infos.values():
        health, detail = c.health, f" — {c.health_detail}" if c.health_detail else ""
        if c.id in ctx.credential_problems:  # a missing or wrong key: nothing can run
            health, detail = "credentials unreadable", f" — {ctx.credential_problems[c.id]}"
        scope = scope_label(c.kind)
        console.print(f"connection {c.name} ({c.kind}, {scope} {c.remote_scope}): {health}{detail}")
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
        console.print(
            f"{crm.connection} sync ({scope_label(crm.kind)} {org}): {state}, "
            f"initial pull {pull_state}"
        )
        audited = infos.get(crm.connection)
        warning = audit_warning(ctx.hub, audited) if audited is not None else None
        if warning:
            console.print(f"  [yellow]{escape(warning)}[/yellow]")
        for job, run_id, records in crm.open_jobs:
            console.print(
                f"  [yellow]bulk job {job}[/yellow] of run {run_id} is still open ({records} "
                "records): the next push reads its results before creating any of them"
            )
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
        if st.deals:
            d = crm.deals
            console.print(
                f"  deals: {d.in_sync} in sync, {d.failing} failing, {d.not_linked} not linked "
                "(`leadbridge deals sync --dry-run` says why)"
            )
        acts = crm.activities
        if acts.total:
            console.print(
                f"  activities: {acts.in_sync} in {crm.connection}, {acts.failing} failing, "
                f"{acts.not_linked} not pushed (skipped by the policy or waiting; "
                "`leadbridge plan` says why)"
            )
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


DEFAULT_PORT = 8765
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")


def parse_bind(address: str) -> tuple[str, int]:
    """`host:port`, `host`, `:port`, `[ipv6]:port`, `[ipv6]` or a bare IPv6 address ->
    (host, port); ValueError saying what is wrong."""
    text = address.strip()
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket:
            raise ValueError("an IPv6 address needs its closing bracket: [::1]:8765")
        host, port_text = _ipv6(inside), _port_part(rest)
    elif text.count(":") > 1:  # a bare IPv6 address: no port can follow without brackets
        host, port_text = _ipv6(text), ""
    else:
        host, _, port_text = text.partition(":")
        host = host or "127.0.0.1"
        if ":" in text and not port_text:
            raise ValueError("a port must follow the colon, e.g. 127.0.0.1:8765")
        if not _HOSTNAME.match(host):
            raise ValueError(f"{host[:60]!r} is not a host name or IP address")
    if not port_text:
        return host, DEFAULT_PORT
    if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"the port must be a number from 1 to 65535, got {port_text[:20]!r}")
    return host, int(port_text)


def _ipv6(text: str) -> str:
    try:
        return str(ipaddress.IPv6Address(text))
    except ValueError:
        raise ValueError(f"{text[:60]!r} is not an IPv6 address") from None


def _port_part(rest: str) -> str:
    if rest and not rest.startswith(":"):
        raise ValueError("after ] comes :port, e.g. [::1]:8765")
    return rest[1:]


@app.command()
@friendly
def serve(
    bind: Annotated[str | None, typer.Option(help="host:port for the web app and API")] = None,
    tick: Annotated[float, typer.Option(help="seconds between schedule checks")] = 5.0,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="policy file for the CRM sync (default ./leadbridge.yaml if present)"
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="another host name browsers use for this server (the Host header is checked)",
        ),
    ] = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="log lines as JSON")] = False,
    jobs: Annotated[
        bool,
        typer.Option(
            "--jobs/--no-jobs",
            help="run the jobs here (default), or leave them to `leadbridge worker` processes",
        ),
    ] = True,
) -> None:
    """Run the scheduler (every connection's jobs on their intervals) and the web app."""
    import asyncio

    import uvicorn

    from leadbridge.cli.crm import read_policy
    from leadbridge.jobs.crm import CrmSchedule
    from leadbridge.jobs.runner import EmbeddedRunner
    from leadbridge.policy.loader import DEFAULT_PATH
    from leadbridge.settings import get_settings
    from leadbridge.web.accounts import has_accounts
    from leadbridge.web.app import create_app
    from leadbridge.web.logs import configure_logging
    from leadbridge.web.security import is_loopback
    from leadbridge.web.state import WebState

    address = bind or get_settings().bind
    try:
        host, port = parse_bind(address)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --bind {escape(address)}: {escape(str(exc))}")
        raise typer.Exit(2) from None
    ctx = Context()
    if not is_loopback(host) and not has_accounts(ctx.hub):
        err.print(
            f"[red]error:[/red] --bind {escape(address)} is reachable from other machines and "
            "there is no account yet: create one first (`leadbridge admin create-user NAME`)",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    crm = None
    policy_file = None
    if policy is None and not DEFAULT_PATH.exists():
        console.print(f"no {DEFAULT_PATH} here: no CRM sync is scheduled (give one: --policy)")
    else:
        policy_file = read_policy(policy)
        crm = CrmSchedule(ctx.hub, ctx.connections, policy_file)
    runner = EmbeddedRunner(ctx.connections, tick=tick, crm=crm) if jobs else None
    if runner is None:
        console.print("jobs: left to `leadbridge worker` processes (--no-jobs)")
    for line in runner.describe() if runner is not None else []:
        console.print(line)
    for c in ctx.connections.all():
        if c.id in ctx.credential_problems:
            console.print(f"[yellow]connection {c.name}: {ctx.credential_problems[c.id]}[/yellow]")
    if not has_accounts(ctx.hub):
        console.print(
            "[yellow]no account yet: create one to sign in (`leadbridge admin create-user "
            "NAME`)[/yellow]"
        )
    handler = configure_logging(json=log_json)
    state = WebState(
        ctx.connections,
        policy=policy_file,
        policy_path=policy or DEFAULT_PATH,
        runner=runner,
        workers=not jobs,
    )
    web = create_app(state, bind_host=host, extra_hosts=allowed_host or [])

    async def main() -> None:
        config = uvicorn.Config(web, host=host, port=port, log_config=None, access_log=False)
        server = uvicorn.Server(config)
        job = asyncio.create_task(runner.serve_forever()) if runner is not None else None
        try:
            await server.serve()
        finally:
            if runner is not None and job is not None:
                runner.stop()
                await job

    shown = f"[{host}]" if ":" in host else host
    console.print(f"leadbridge serving on http://{shown}:{port}; jobs run on their schedules")
    try:
        asyncio.run(main())
    finally:
        logging.getLogger("leadbridge").removeHandler(handler)


@app.command()
@friendly
def demo(
    companies: Annotated[int, typer.Option(help="companies to generate")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="keep the dashboard up afterwards")
    ] = True,
    port: Annotated[int, typer.Option(help="the dashboard's loopback port")] = 8765,
) -> None:
    """The whole product against local sandboxes, as the commands you would type: the lead push
    to Apollo, the two-way sync with Salesforce and HubSpot (audit, plan, edits both ways,
    explain, undo), the REST API; then the dashboard (until Ctrl+C)."""
    from leadbridge.demo import run_demo

    run_demo(companies=companies, seed=seed, console=console, serve=serve, port=port)
