"""CRM sync commands: policy check, pull, push, activate, undo, and the CRM side of plan/explain."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.markup import escape

from leadbridge.cli.app import PolicyOpt, SyncOpt, app, connect_app, policy_app
from leadbridge.cli.context import Context, console, err, friendly

if TYPE_CHECKING:
    from leadbridge.engine.sync.context import SyncContext
    from leadbridge.policy.crm import PolicyFile

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
    from leadbridge.policy.loader import load_policy

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
    setup_hours: Annotated[
        float | None,
        typer.Option(help="setup window in hours (default: the policy's setup_window_hours)"),
    ] = None,
    policy: PolicyOpt = None,
) -> None:
    """Store an authorised org; automatic sync waits for the setup window."""
    import json

    from leadbridge.engine.systems.salesforce import connect_salesforce

    try:
        body = json.loads(token_json.read_text(encoding="utf-8"))
        assert isinstance(body, dict) and body.get("access_token")
    except (OSError, ValueError, AssertionError):
        fail(f"{token_json} is not a token response (JSON with access_token)")
    setup_hours, source = setup_window(policy, name, setup_hours)
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
        f"connected {info.name} (org {info.remote_scope}); "
        + setup_note(setup_hours, source, info.name),
        markup=False,
    )


def setup_note(hours: float, source: str, name: str) -> str:
    """What a new CRM connection's setup window means for the next steps."""
    if hours <= 0:
        return (
            f"no setup window ({source}): `leadbridge pull` works now and `leadbridge serve` "
            "syncs on its schedule"
        )
    return (
        f"the setup window is open for {hours:g} h ({source}): write leadbridge.yaml (a sync "
        f"with connection: {name}), `leadbridge policy check`, then `leadbridge activate`"
    )


def setup_window(path: Path | None, connection: str, given: float | None) -> tuple[float, str]:
    """How long the setup window of a new connection is, and where that came from:
    --setup-hours (within the policy's range), else the policy's setup_window_hours."""
    from pydantic import ValidationError

    from leadbridge.policy.crm import CrmSync

    if given is None:
        return _policy_window(path, connection)
    try:
        CrmSync.model_validate({"setup_window_hours": given})
    except ValidationError as exc:
        fail(f"--setup-hours {given:g}: {exc.errors()[0]['msg'].lower()} (hours)")
    return given, "--setup-hours"


def _policy_window(path: Path | None, connection: str) -> tuple[float, str]:
    """The setup window a new connection opens: `setup_window_hours` of the policy's sync on
    it (the longest, if several), else the default; and where the value came from. A broken
    default policy file does not stop a connect: it is said, and the default used."""
    from leadbridge.policy.crm import CrmSync
    from leadbridge.policy.loader import DEFAULT_PATH, PolicyError

    default = float(CrmSync.model_fields["setup_window_hours"].default)
    if path is None and not DEFAULT_PATH.exists():
        return default, "the default; setup_window_hours in leadbridge.yaml sets it"
    try:
        syncs = read_policy(path).syncs.values()
    except PolicyError as exc:
        if path is not None:
            raise
        err.print(f"[yellow]warning:[/yellow] {escape(str(exc))}", soft_wrap=True)
        return default, f"the default: {DEFAULT_PATH} could not be read"
    hours = [s.setup_window_hours for s in syncs if s.connection == connection]
    if not hours:
        return default, f"the default: no sync in the policy uses {connection}"
    return max(hours), "setup_window_hours of the policy"


@policy_app.command("check")
@friendly
def policy_check(policy: PolicyOpt = None, sync: SyncOpt = None) -> None:
    """Lint the policy against the live schema of the connection's objects."""
    import asyncio

    from leadbridge.engine.sync.lint import check

    ctx = crm_ctx(policy, sync)
    report = asyncio.run(_closing(ctx, check(ctx)))
    until = ctx.setup_until() if ctx.in_setup_window() else None
    if until is not None:  # a changed setup_window_hours does not move an open window
        console.print(
            f"[cyan]note:[/cyan] the setup window is open until {until:%Y-%m-%d %H:%M} UTC, as "
            "set when the connection was made (setup_window_hours applies to new connections); "
            "`leadbridge activate` ends it now"
        )
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
    import asyncio

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
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="create the named people even where they look like a CRM record (another "
            "e-mail, same name and company)",
        ),
    ] = False,
    campaign: Annotated[
        str | None,
        typer.Option(
            help="then add the named people (none named: the sync's scope) to this campaign "
            "(Salesforce) or static list (HubSpot), which must exist",
        ),
    ] = None,
) -> None:
    """Push now; named records are a manual push (stage rules and the scope do not apply)."""
    import asyncio

    from leadbridge.jobs.tasks import push_task

    if allow_duplicate and not records:
        fail("--allow-duplicate is for named people: `leadbridge push EMAIL --allow-duplicate`")
    ctx = crm_ctx(policy, sync)
    ids = _people(ctx, records) if records else None
    report = asyncio.run(
        _closing(
            ctx,
            push_task(
                ctx,
                person_ids=ids,
                company_ids=[] if ids else None,
                manual=bool(records),
                allow_duplicates=allow_duplicate,
                campaign=campaign,
            ),
        )
    )
    counts = dict(report.counts)
    held = counts.pop("held", 0)
    console.print(
        f"push run {report.run_id}: "
        + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do")
    )
    if held:
        problems = "problem" if held == 1 else "problems"
        console.print(f"held: {held} known {problems}, not sent (see `leadbridge errors`)")
    elif counts.get("failed") or counts.get("campaign_failed"):
        console.print("see `leadbridge errors`")
    if not records:
        from leadbridge.cli.activities import push_activities_now

        push_activities_now(ctx)


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
    import asyncio

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
    from leadbridge.connectors.errors import ConnectorError
    from leadbridge.engine.status import push_outlook
    from leadbridge.engine.sync.session import sync_context
    from leadbridge.policy.loader import DEFAULT_PATH, PolicyError

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


def crm_plan_lines(policy_path: Path | None, sync: str | None, person: int) -> list[str]:
    """What a push would do with one person, and why (`explain <e-mail>`)."""
    from leadbridge.engine.sync.push import plan
    from leadbridge.hub.tables import Person

    ctx = crm_ctx(policy_path, sync)
    the_plan = plan(ctx, person_ids=[person], company_ids=[])
    lines = [d.describe() for d in (*the_plan.companies, *the_plan.people)]
    with ctx.hub.session() as s:
        record = s.get(Person, person)
        if record is not None and record.deleted_at is not None:
            into = f", merged into person {record.merged_into}" if record.merged_into else ""
            lines.append(
                f"person {person}: deleted in the hub {record.deleted_at:%Y-%m-%d %H:%M} UTC"
                f"{into}; nothing is pushed for it"
            )
    return lines


# Changes first, in this order; then what is held back with a reason; records in sync last.
_ORDER = {"create": 0, "update": 1, "link": 2, "delete": 3, "unlink": 4, "error": 5, "skip": 6}


def crm_plan_view(
    policy_path: Path | None, sync: str | None, *, show: int, everything: bool
) -> list[str]:
    """`plan <sync>`: the records a push would change, then those it holds back (with the
    reason); those in sync only with `everything`. A cut list says how many rows it left out."""
    from leadbridge.engine.sync.push import plan

    the_plan = plan(crm_ctx(policy_path, sync), everything=everything)
    decisions = [*the_plan.companies, *the_plan.people]
    listed = sorted(
        (d for d in decisions if everything or not d.in_sync),
        key=lambda d: (d.in_sync, _ORDER[d.action]),
    )
    lines = [d.describe() for d in listed[:show]]
    if 0 < show < len(listed):
        lines.append(f"… {len(listed) - show} more (use --show {len(listed)})")
    lines.append(", ".join(f"{k} {v}" for k, v in sorted(the_plan.counts().items())))
    in_sync = the_plan.in_sync()
    if in_sync and not everything and show:
        lines.append(f"{in_sync} in sync, not listed (--all lists them)")
    from leadbridge.cli.activities import activity_plan_lines

    return lines + activity_plan_lines(crm_ctx(policy_path, sync), show=show)
