"""`plan` and `explain`: what a run would do, and why, for the lead push and the CRM syncs."""

from __future__ import annotations

from typing import Annotated

import typer

from leadbridge.cli.apollo import _job, _render_plan, apollo_push
from leadbridge.cli.app import ConnectionOpt, app
from leadbridge.cli.context import Context, console, err, friendly
from leadbridge.cli.crm import crm_plan_lines, crm_plan_view


@app.command()
@friendly
def plan(
    job: str,
    connection: ConnectionOpt = None,
    remote: Annotated[
        bool, typer.Option(help="read Apollo's accounts to tell adopt from create (API calls)")
    ] = False,
    show: Annotated[int, typer.Option(help="rows to list (0: counts only)", min=0)] = 30,
    everything: Annotated[
        bool, typer.Option("--all", help="list records with nothing to change too")
    ] = False,
) -> None:
    """Print what a run would do now: changes first (create / update / link, errors), then
    what is held back and why; records already in sync only with --all.
    JOB is apollo-push or a CRM sync of the policy (salesforce, hubspot)."""
    import asyncio

    if job != "apollo-push":
        for line in crm_plan_view(None, job, show=show, everything=everything):
            console.print(line, markup=False, soft_wrap=True)  # one record, one line
        return
    _job(job)
    ctx = Context()
    push = apollo_push(ctx, connection)
    domains = asyncio.run(push.remote_domains()) if remote else None
    _render_plan(push.plan(domains, everything=everything), show, everything)


@app.command()
@friendly
def explain(
    record: Annotated[
        str,
        typer.Argument(help="a company's domain or hub id, a person's e-mail, or activity:<id>"),
    ],
    connection: ConnectionOpt = None,
) -> None:
    """Why a company was or was not pushed: every criterion, and what a run would do."""
    from sqlalchemy import select

    from leadbridge.hub.tables import Company
    from leadbridge.normalize import normalize_domain

    if record.lower().startswith("activity:") and record[9:].strip().isdigit():
        from leadbridge.cli.activities import activity_explain_lines

        for line in activity_explain_lines(None, None, int(record[9:])):
            console.print(line, markup=False)
        return
    if "@" in record:  # a person: the CRM sync's classifier
        from leadbridge.cli.crm import _people, crm_ctx

        (person_id,) = _people(crm_ctx(None, None), [record])
        for line in crm_plan_lines(None, None, person_id):
            console.print(line, markup=False)
        return
    ctx = Context()
    push = apollo_push(ctx, connection)
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
