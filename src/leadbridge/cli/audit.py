"""`leadbridge audit`: the duplicate audit before connecting a CRM (and weekly after), printed
and, with --csv, written for a spreadsheet."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leadbridge.cli.app import PolicyOpt, SyncOpt, app
from leadbridge.cli.context import Context, console, friendly

if TYPE_CHECKING:
    from leadbridge.hub.tables import Connection

SHOWN_PER_SECTION = 25
CSV_HEADER = (
    "connection",
    "section",
    "cluster",
    "confidence",
    "record",
    "name",
    "matched_with",
    "match_confidence",
    "evidence",
)


@app.command()
@friendly
def audit(
    sync: SyncOpt = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="write every cluster and finding to this CSV file"),
    ] = None,
    policy: PolicyOpt = None,
    threshold: Annotated[
        float, typer.Option(min=0.5, max=0.9999, help="least match probability reported")
    ] = 0.9,
) -> None:
    """Find duplicates within the CRM, within the hub and across, and the records to clean
    before syncing (invalid e-mails, test contacts, no activity for 12 months)."""
    from leadbridge.engine.audit import run_audit
    from leadbridge.engine.systems import CRM_SYSTEMS
    from leadbridge.hub.csv_output import write_csv

    ctx = Context()
    targets = _connections(ctx, sync, policy, set(CRM_SYSTEMS))
    reports = []
    chosen: list[Connection | None] = [*targets] or [None]
    for connection in chosen:
        catalog = CRM_SYSTEMS[connection.kind].catalog if connection is not None else None
        reports.append(run_audit(ctx.hub, connection, catalog=catalog, threshold=threshold))
    for report in reports:
        _print(report)
    if csv_file is not None:
        count = write_csv(csv_file, CSV_HEADER, (row for r in reports for row in _rows(r)))
        console.print(f"{count} row(s) written to {csv_file}", markup=False)


def _connections(
    ctx: Context, sync: str | None, policy: Path | None, crm_kinds: set[str]
) -> list[Connection]:
    from sqlalchemy import select

    from leadbridge.hub.tables import Connection

    with ctx.hub.session() as s:
        rows = list(
            s.scalars(
                select(Connection)
                .where(
                    Connection.workspace_id == ctx.hub.workspace_id,
                    Connection.kind.in_(crm_kinds),
                )
                .order_by(Connection.name)
            )
        )
    if sync is None:
        return rows
    from leadbridge.cli.crm import fail, read_policy

    name = read_policy(policy).sync(sync).connection
    found = [c for c in rows if c.name == name]
    if not found:
        fail(f"sync {escape(sync)} uses connection {escape(name)}, which is not connected")
    return found


def evidence_text(evidence: Any) -> str:
    return "; ".join(f"{a.describe()} {a.weight:+.1f}" for a in evidence if a.level != "missing")


def _print(report: Any) -> None:
    from leadbridge.engine.audit import SECTIONS

    where = f"{report.connection} and the hub" if report.connection else "the hub"
    console.print(
        f"[bold]duplicate audit of {escape(where)}[/bold]: {report.records} records, "
        f"{len(report.clusters)} duplicate cluster(s)"
    )
    for section, label in SECTIONS.items():
        clusters = [c for c in report.clusters if c.section == section]
        if not clusters:
            continue
        table = Table("#", "confidence", "records", "evidence", title=f"{label}: {len(clusters)}")
        for number, c in enumerate(clusters[:SHOWN_PER_SECTION], 1):
            members = "\n".join(f"{m.ref}: {m.name}" for m in c.members)
            why = "\n".join(
                f"{m.left} ~ {m.right} ({m.confidence:.1%}): {evidence_text(m.evidence)}"
                for m in c.matches
            )
            table.add_row(str(number), f"{c.confidence:.1%}", escape(members), escape(why))
        console.print(table)
        if len(clusters) > SHOWN_PER_SECTION:
            console.print(f"  … {len(clusters) - SHOWN_PER_SECTION} more (see --csv)")
    counts = Counter(h.check for h in report.hygiene)
    from leadbridge.engine.audit.hygiene import CHECKS

    if counts:
        console.print(
            "hygiene: "
            + ", ".join(f"{counts[k]} {label}" for k, label in CHECKS.items() if counts[k])
        )
        for key, label in CHECKS.items():
            for h in [h for h in report.hygiene if h.check == key][:SHOWN_PER_SECTION]:
                console.print(f"  {label}: {h.ref} {h.name} — {h.detail}", markup=False)
    else:
        console.print("hygiene: no invalid e-mails, test contacts or stale records")


def _rows(report: Any) -> list[list[Any]]:
    from leadbridge.engine.audit.hygiene import CHECKS

    rows: list[list[Any]] = []
    numbers: Counter[str] = Counter()
    for c in report.clusters:
        numbers[c.section] += 1
        joined: dict[str, Any] = {}
        for m in c.matches:
            joined.setdefault(m.right, m)
            joined.setdefault(m.left, m)
        for member in c.members:
            m = joined.get(member.ref)
            other = (m.left if m.right == member.ref else m.right) if m else ""
            rows.append(
                [
                    report.connection or "",
                    c.section,
                    numbers[c.section],
                    f"{c.confidence:.4f}",
                    member.ref,
                    member.name,
                    other,
                    f"{m.confidence:.4f}" if m else "",
                    evidence_text(m.evidence) if m else "",
                ]
            )
    for h in report.hygiene:
        rows.append(
            [report.connection or "", f"hygiene: {CHECKS[h.check]}", "", "", h.ref, h.name, "",
             "", h.detail]
        )  # fmt: skip
    return rows
