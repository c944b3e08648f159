"""Deal commands: `leadbridge import deals FILE.csv`, `leadbridge deals list`, and the deal
sync of a CRM (`leadbridge deals sync`, `--dry-run` for its plan)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leadbridge.cli.app import PolicyOpt, SyncOpt, deals_app, import_app
from leadbridge.cli.context import Context, console, friendly
from leadbridge.cli.crm import _closing, crm_ctx, fail
from leadbridge.cli.hub import _import_report

DEALS_HELP = """Import deals; bad rows are listed (and write nothing), good ones kept.

Columns (header names matched loosely): name (required; a deal is found again by its name at
its company, or by an `id` column with its hub id), amount (12500 or 12,500.50), currency
(USD), close_date (YYYY-MM-DD), pipeline, stage (the CRM's stage label; a stage the CRM does
not have is refused when the deal is pushed), owner (a hub user's e-mail), company_domain or
company (found by domain, else by name, else made), people (e-mails of hub people, separated
by `;`).
"""


@import_app.command("deals", help=DEALS_HELP)
@friendly
def import_deals_cmd(
    file: Path,
    strict: Annotated[bool, typer.Option(help="import nothing if any row is bad")] = False,
) -> None:
    from leadbridge.hub.deals import import_deals

    _import_report("deals", import_deals(Context().hub, file, strict=strict))


@deals_app.command("list")
@friendly
def list_cmd(
    hidden: Annotated[bool, typer.Option(help="also the deals of syncs that hide them")] = False,
    limit: Annotated[int, typer.Option(min=1, help="at most this many")] = 200,
) -> None:
    """The hub's deals, the latest change first."""
    from leadbridge.hub.deals import list_deals

    lines = list_deals(Context().hub, hidden=hidden, limit=limit)
    if not lines:
        console.print("no deals (import some: `leadbridge import deals FILE.csv`)")
        return
    table = Table("id", "name", "amount", "close", "stage", "company", "owner", "people")
    for d in lines:
        money = f"{d.amount:,.2f} {d.currency or ''}".strip() if d.amount is not None else ""
        table.add_row(
            str(d.id),
            escape(d.name or ""),
            money,
            d.close_date.isoformat() if d.close_date else "",
            escape(" / ".join(x for x in (d.pipeline, d.stage) if x)),
            escape(d.company or ""),
            escape(d.owner or ""),
            escape(", ".join(d.people)),
        )
    console.print(table)


@deals_app.command("stages")
@friendly
def stages_cmd(policy: PolicyOpt = None, sync: SyncOpt = None) -> None:
    """The CRM's deal pipeline(s) the hub mirrors: each stage with its probability and state."""
    import asyncio

    from leadbridge.engine.deals.run import pipelines

    ctx = crm_ctx(policy, sync)
    found = asyncio.run(_closing(ctx, pipelines(ctx)))
    console.print(f"{ctx.label} deal stages:")
    for line in found.lines():
        console.print(f"  {escape(line)}")


@deals_app.command("sync")
@friendly
def sync_cmd(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show the plan, write nothing")
    ] = False,
    policy: PolicyOpt = None,
    sync: SyncOpt = None,
) -> None:
    """Sync deals with the CRM now, per the policy's `deals.mode`."""
    import asyncio

    from leadbridge.engine.deals.run import plan_deals
    from leadbridge.jobs.tasks import deals_task

    ctx = crm_ctx(policy, sync)
    noun = ctx.catalog.deals.one() if ctx.catalog.deals else "deal"
    if dry_run:
        report = asyncio.run(_closing(ctx, plan_deals(ctx)))
        console.print(f"deals plan (mode {report.mode}):")
        for item in report.plan:
            console.print(f"  {escape(item.line(noun))}")
        if not report.plan:
            console.print("  no deals in the hub")
        return
    report = asyncio.run(_closing(ctx, deals_task(ctx)))
    if report.run_id is None:
        console.print(f"deal sync is off (deals.mode {report.mode}): nothing read or written")
        return
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
    console.print(f"deals run {report.run_id} (mode {report.mode}): {counts or 'nothing to do'}")
    for item in report.plan:
        if item.action == "refused":
            console.print(f"  [red]refused:[/red] {escape(item.line(noun))}")
    if report.counts.get("refused") or report.counts.get("failed"):
        console.print("see `leadbridge errors`")


@deals_app.command("explain")
@friendly
def explain_cmd(deal_id: int, policy: PolicyOpt = None, sync: SyncOpt = None) -> None:
    """Why a deal syncs (or does not) with the CRM: its plan line and its link."""
    import asyncio

    from leadbridge.engine.deals.run import plan_deals

    ctx = crm_ctx(policy, sync)
    report = asyncio.run(_closing(ctx, plan_deals(ctx, [deal_id])))
    if not report.plan:
        fail(f"no deal {deal_id} in the hub (`leadbridge deals list`)")
    noun = ctx.catalog.deals.one() if ctx.catalog.deals else "deal"
    console.print(f"deals.mode {report.mode}")
    console.print(escape(report.plan[0].line(noun)))
