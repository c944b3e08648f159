"""CRM sync commands: policy check, pull, push, activate, undo, and the CRM side of plan/explain."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from leadbridge.cli.app import PolicyOpt, SyncOpt, app, connect_app, policy_app
from leadbridge.cli.context import Context, console, err, friendly
from leadbridge.connectors.errors import ConnectorError
from leadbridge.engine.sync.context import SyncContext
from leadbridge.policy.crm import PolicyFile
from leadbridge.policy.loader import DEFAULT_PATH, PolicyError, load_policy

if TYPE_CHECKING:
    from leadbridge.engine.status import PushOutlook

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """A mistake of the user's: one clear line and exit 1 (as `friendly` prints them)."""
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(1)


def read_policy(path: Path | None) -> PolicyFile:
    """The policy file, checked against the object sections of every system we know."""
    from leadbridge.engine.systems import sections

    return load_policy(path, sections())


def crm_ctx(policy_path: Path | None, sync: str | None) -> SyncContext:
    from leadbridge.engine.sync.session import sync_context

    ctx = Context()
    return sync_context(ctx.hub, ctx.connections, read_policy(policy_path).sync(sync))


@connect_app.command("salesforce")
@friendly
def connect_salesforce_cmd(
    login_url: Annotated[str, typer.Argument(help="login URL (or the sandbox's URL)")],
    token_json: Annotated[
        Path, typer.Option(help="the OAuth token response (JSON) of the web-server flow")
    ],
    client_id: Annotated[str | None, typer.Option(envvar="LEADBRIDGE_SF_CLIENT_ID")] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar="LEADBRIDGE_SF_CLIENT_SECRET", hidden=True)
    ] = None,
    ca_file: Annotated[Path | None, typer.Option(help="CA file of a sandbox")] = None,
    name: Annotated[str, typer.Option(help="connection name")] = "salesforce",
    setup_hours: Annotated[float, typer.Option(help="setup window")] = 6,
) -> None:
    """Store an authorised org; automatic sync waits for the setup window."""
    import json

    from leadbridge.engine.systems.salesforce import connect_salesforce

    try:
        body = json.loads(token_json.read_text(encoding="utf-8"))
        assert isinstance(body, dict) and body.get("access_token")
    except (OSError, ValueError, AssertionError):
        fail(f"{token_json} is not a token response (JSON with access_token)")
    ctx = Context()
    previous = next(
        (c for c in ctx.connections.all() if c.name == name and c.kind == "salesforce"), None
    )
    info = connect_salesforce(
        ctx.hub,
        ctx.connections,
        name=name,
        login_url=login_url,
        token_body=body,
        client_id=client_id,
        client_secret=client_secret,
        ca_file=str(ca_file) if ca_file else None,
        setup_window_hours=setup_hours,
    )
    if previous is not None and previous.remote_scope == info.remote_scope:
        console.print(
            f"reconnected {info.name} (org {info.remote_scope}) with new tokens; "
            "the sync state is kept"
        )
        return
    console.print(
        f"connected {info.name} (org {info.remote_scope}); the setup window is open "
        f"for {setup_hours:g} h: write leadbridge.yaml, `leadbridge policy check`, "
        "then `leadbridge activate`"
    )


@policy_app.command("check")
@friendly
def policy_check(policy: PolicyOpt = None, sync: SyncOpt = None) -> None:
    """Lint the policy against the live schema of the connection's objects."""
    from leadbridge.engine.sync.lint import check

    ctx = crm_ctx(policy, sync)
    report = asyncio.run(_closing(ctx, check(ctx)))
    for note in report.notes:
        console.print(f"[cyan]note:[/cyan] {note}")
    for w in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    for e in report.errors:
        console.print(f"[red]error:[/red] {e}")
    if report.errors:
        raise typer.Exit(1)
    n = len(report.warnings)
    console.print("policy ok" + (f" ({n} warning{'s' * (n != 1)})" if n else ""))


@app.command("pull")
@friendly
def pull_cmd(policy: PolicyOpt = None, sync: SyncOpt = None) -> None:
    """Pull from the CRM now (refused during the setup window)."""
    from leadbridge.jobs.tasks import pull_task

    ctx = crm_ctx(policy, sync)
    ctx.progress = lambda obj, n: console.print(f"  {obj}: {n} read")
    report = asyncio.run(_closing(ctx, pull_task(ctx, manual=True)))
    console.print(
        f"pull run {report.run_id}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
    )


@app.command("push")
@friendly
def push_cmd(
    records: Annotated[list[str] | None, typer.Argument(help="person e-mails or ids")] = None,
    policy: PolicyOpt = None,
    sync: SyncOpt = None,
) -> None:
    """Push now; named records are a manual push (stage rules do not apply)."""
    from leadbridge.jobs.tasks import push_task

    ctx = crm_ctx(policy, sync)
    ids = _people(ctx, records) if records else None
    report = asyncio.run(
        _closing(
            ctx,
            push_task(ctx, person_ids=ids, company_ids=[] if ids else None, manual=bool(records)),
        )
    )
    console.print(
        f"push run {report.run_id}: "
        + (", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing to do")
    )
    if report.counts.get("failed"):
        console.print("see `leadbridge errors`")


@app.command("activate")
@friendly
def activate(policy: PolicyOpt = None, sync: SyncOpt = None) -> None:
    """End the setup window now: automatic sync starts, manual pull is allowed."""
    ctx = crm_ctx(policy, sync)
    ctx.save_state(setup_until=None)
    console.print("setup window ended; run `leadbridge pull` for the initial pull")


@app.command("undo")
@friendly
def undo(run_id: int, policy: PolicyOpt = None, sync: SyncOpt = None) -> None:
    """Restore what a run replaced (and delete what it created)."""
    from leadbridge.jobs.tasks import undo_task

    ctx = crm_ctx(policy, sync)
    report = asyncio.run(_closing(ctx, undo_task(ctx, run_id)))
    console.print(
        f"restored {report.restored}, deleted {report.deleted}, hub restored {report.hub_restored}"
    )
    for item in report.kept_newer:
        console.print(f"  kept a newer edit: {item}")
    for item in report.failed:
        console.print(f"  [red]failed:[/red] {item}")


async def _closing(ctx: SyncContext, work: Coroutine[Any, Any, T]) -> T:
    """Run one command's work, then close the connector's HTTP client."""
    try:
        return await work
    finally:
        await ctx.connector.aclose()


def _people(ctx: SyncContext, records: list[str]) -> list[int]:
    from sqlalchemy import select

    from leadbridge.hub.tables import Person

    out = []
    with ctx.hub.session() as s:
        for r in records:
            query = select(Person.id).where(Person.workspace_id == ctx.workspace_id)
            query = (
                query.where(Person.id == int(r))
                if r.isdigit()
                else query.where(Person.email_key == r.strip().lower())
            )
            found = s.scalar(query)
            if found is None:
                fail(f"no person {r!r} in the hub")
            out.append(found)
    return out


def crm_outlooks(
    policy_path: Path | None, connections: list[str]
) -> tuple[dict[str, PushOutlook], str | None]:
    """Per CRM connection of the policy, why its unlinked records are not pushed (the push
    classifier, no API call); with no policy file, nothing. A broken default policy file is
    a note, not a failure of `status`; one named with --policy fails."""
    from leadbridge.engine.status import push_outlook
    from leadbridge.engine.sync.session import sync_context

    if policy_path is None and not (connections and DEFAULT_PATH.exists()):
        return {}, None
    try:
        syncs = read_policy(policy_path).syncs.values()
    except PolicyError as exc:
        if policy_path is not None:
            raise
        return {}, f"reasons not shown: {exc}"
    ctx = Context()
    out: dict[str, PushOutlook] = {}
    for sync in syncs:
        if sync.connection in connections and sync.connection not in out:
            try:
                crm = sync_context(ctx.hub, ctx.connections, sync)
            except ConnectorError as exc:  # e.g. no token stored: the counts are still right
                return out, f"reasons not shown for {sync.connection}: {exc}"
            out[sync.connection] = push_outlook(crm)
    return out, None


def crm_plan_lines(
    policy_path: Path | None, sync: str | None, person: int | None = None
) -> list[str]:
    from leadbridge.engine.sync.push import plan

    ctx = crm_ctx(policy_path, sync)
    the_plan = plan(
        ctx, person_ids=[person] if person else None, company_ids=[] if person else None
    )
    lines = [d.describe() for d in (*the_plan.companies, *the_plan.people)]
    counts = ", ".join(f"{k} {v}" for k, v in sorted(the_plan.counts().items()))
    return [*lines, counts] if person is None else lines
