"""Scaling out: `leadbridge worker` (procrastinate workers on a PostgreSQL hub) and
`leadbridge migrate-hub` (copy a hub, e.g. SQLite to PostgreSQL)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from leadbridge.cli.app import app
from leadbridge.cli.context import Context, console, err, friendly


@app.command()
@friendly
def worker(
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="policy file for the CRM sync (default ./leadbridge.yaml if present)"
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="jobs this process runs at once (on different connections)")
    ] = 4,
    heartbeat: Annotated[float, typer.Option(help="seconds between this worker's heartbeats")] = 10,
    stalled_after: Annotated[
        float,
        typer.Option(help="seconds without a heartbeat after which a worker's jobs are re-queued"),
    ] = 30,
    log_json: Annotated[bool, typer.Option("--log-json", help="log lines as JSON")] = False,
) -> None:
    """Run jobs as one of any number of workers sharing a PostgreSQL hub (procrastinate)."""
    import asyncio

    from leadbridge.cli.crm import read_policy
    from leadbridge.hub.db import Hub
    from leadbridge.jobs.worker import WorkerError, conninfo, prepare, run_worker
    from leadbridge.policy.loader import DEFAULT_PATH
    from leadbridge.settings import get_settings
    from leadbridge.web.logs import configure_logging

    url = get_settings().database_url
    try:
        conninfo(url)
    except WorkerError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    hub = Hub.open(url, migrate_schema=False)
    prepare(hub)
    ctx = Context(hub)
    policy_file = None
    if policy is None and not DEFAULT_PATH.exists():
        console.print(f"no {DEFAULT_PATH} here: no CRM sync is run (give one: --policy)")
    else:
        policy_file = read_policy(policy)
    handler = configure_logging(json=log_json)
    console.print(
        f"leadbridge worker: {concurrency} job(s) at a time; jobs come from the hub's queue"
    )
    try:
        asyncio.run(
            run_worker(
                url,
                ctx.connections,
                policy_file,
                concurrency=concurrency,
                heartbeat=heartbeat,
                stalled_after=stalled_after,
            )
        )
    except KeyboardInterrupt:
        pass
    finally:
        logging.getLogger("leadbridge").removeHandler(handler)


@app.command("migrate-hub")
@friendly
def migrate_hub(
    source: Annotated[
        str, typer.Argument(help="database URL of the hub to copy (e.g. sqlite:///leadbridge.db)")
    ],
    destination: Annotated[
        str,
        typer.Argument(help="database URL of a new, empty hub (e.g. postgresql://…/leadbridge)"),
    ],
) -> None:
    """Copy a hub into a new database (SQLite to PostgreSQL): every table, counts verified."""
    from leadbridge.hub.copy import HubCopyError, TableCopy, copy_hub

    def shown(step: TableCopy) -> None:
        console.print(f"{step.table}: {step.rows} rows")

    from sqlalchemy.exc import ArgumentError, OperationalError

    try:
        done = copy_hub(source, destination, progress=shown)
    except HubCopyError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except ArgumentError as exc:
        err.print(f"[red]error:[/red] not a database URL: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    except OperationalError as exc:
        err.print(
            f"[red]error:[/red] a database could not be opened: {escape(str(exc.orig))}",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    total = sum(step.rows for step in done)
    console.print(
        f"copied {total} rows in {len(done)} tables; every count verified. Point "
        "LEADBRIDGE_DATABASE_URL at the destination (the same LEADBRIDGE_SECRET_KEY opens its "
        "credentials)."
    )
