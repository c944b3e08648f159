"""Benchmark: the hub's cost as it grows — hubs of 100,000 and 1,000,000 people in sync with the
Salesforce sandbox (over HTTPS) and the Apollo sandbox, built as `scale_hub.py` says.

For each size, each phase runs in a child process (its peak memory is the child's max RSS):

1. the scheduled full push with nothing changed (what `serve` runs after every pull): bound
   0 API calls; µs per record of planning; time should grow linearly with the hub and peak
   memory stay under 400 MB;
2. an incremental push after 0.1 % of the people changed (the outbox path): bound
   ⌈changed / 200⌉ calls (sObject Collections) besides the describe a fresh process makes once
   (`serve` keeps it from run to run), and its cost per changed record should not depend on the
   hub's size;
3. the Apollo lead push's plan of every company (nothing changed): µs per lead.

Targets (issue "Fast and flat"): planning < 20 µs per record; the full push linear with peak
memory < 400 MB; the incremental push ≤ 1.1× its call bound, under 10 s at 1,000,000 people.

    python bench/bench_scale.py [--sizes 100000,1000000] [--database postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).parent))
import scale_hub
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.secrets import SecretBox

COLLECTION = 200
CHANGED = 0.001


@dataclass
class Phase:
    name: str
    records: int
    calls: int
    bound: int
    wall: float
    peak_mb: float
    ok: bool
    note: str = ""

    def line(self) -> str:
        ratio = self.calls / self.bound if self.bound else float(self.calls)
        per = self.wall / self.records * 1e6 if self.records else 0.0
        return (
            f"{self.name}: {self.records} records, {self.calls} calls (bound {self.bound}, "
            f"ratio {ratio:.2f}); {self.wall:.2f} s, {per:.1f} µs per record; peak "
            f"{self.peak_mb:.0f} MB{'' if self.ok else '  ✗ ' + self.note}"
        )


# --- what each child process runs ---------------------------------------------------------------


def _open(database: str, key: bytes) -> tuple[Hub, Connections]:
    hub = Hub.open(database)
    return hub, Connections(hub, SecretBox(key))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def full_push(database: str, key: bytes, records: int) -> dict[str, Any]:
    from leadbridge.engine.sync.session import sync_context
    from leadbridge.jobs.tasks import push_all_task

    hub, connections = _open(database, key)

    async def go() -> tuple[int, dict[str, int], float]:
        ctx = sync_context(hub, connections, scale_hub.POLICY)
        try:
            started = time.monotonic()
            report = await push_all_task(ctx)
            return ctx.connector.calls.total, report.counts, time.monotonic() - started
        finally:
            await ctx.connector.aclose()

    calls, counts, wall = asyncio.run(go())
    writes = {k: v for k, v in counts.items() if k.endswith(("_created", "_updated", "failed"))}
    return {"calls": calls, "wall": wall, "peak": _peak_mb(), "bad": writes}


def incremental_push(database: str, key: bytes, records: int) -> dict[str, Any]:
    from leadbridge.engine.sync.session import sync_context
    from leadbridge.jobs.tasks import drain_task

    hub, connections = _open(database, key)

    async def go() -> tuple[int, dict[str, int], float]:
        ctx = sync_context(hub, connections, scale_hub.POLICY)
        try:
            started = time.monotonic()
            report = await drain_task(ctx)
            counts = report.counts if report is not None else {}
            routes = dict(ctx.connector.calls.by_route)
            # A describe is once per process: `serve` keeps its connector (and the describe)
            # from run to run, so only a fresh process (a CLI push) pays it. Left out of the
            # ratio, printed.
            describes = sum(n for route, n in routes.items() if route.endswith("/describe/"))
            print(f"    incremental push calls: {routes} ({describes} per-process describe)")
            return ctx.connector.calls.total - describes, counts, time.monotonic() - started
        finally:
            await ctx.connector.aclose()

    calls, counts, wall = asyncio.run(go())
    bad = {k: v for k, v in counts.items() if k == "failed" or k.endswith("_created")}
    if counts.get("contacts_updated") != records:
        bad["contacts_updated"] = counts.get("contacts_updated", 0)
    return {"calls": calls, "wall": wall, "peak": _peak_mb(), "bad": bad}


def apollo_plan(database: str, key: bytes, records: int) -> dict[str, Any]:
    from leadbridge.engine.leadpush.run import LeadPush

    hub, connections = _open(database, key)
    push = LeadPush(hub, connections, connections.get("apollo"))
    started = time.monotonic()
    plan = push.plan()
    wall = time.monotonic() - started
    counts = plan.counts()
    bad = {k: v for k, v in counts.items() if k != "unchanged"}
    return {"calls": 0, "wall": wall, "peak": _peak_mb(), "bad": bad}


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(target, args)
    return result


# --- the run ------------------------------------------------------------------------------------


def edit_people(hub: Hub, count: int) -> None:
    """A user's edit of `count` people (the template's own: they exist in the org)."""
    from leadbridge.hub.edits import edit
    from leadbridge.hub.tables import Person

    with hub.session() as s:
        people = s.scalars(select(Person).order_by(Person.id).limit(count))
        for person in people:
            edit(s, person, {"title": "Head of Buying"}, origin="user")


def measure(size: int, database: str | None, sandboxes: Any) -> list[Phase]:
    workdir = Path(tempfile.mkdtemp(prefix="leadbridge-bench-scale-"))
    url = database or f"sqlite:///{workdir / 'hub.db'}"
    if database:
        reset(database)
    key = Fernet.generate_key()
    hub = Hub.open(url)
    connections = Connections(hub, SecretBox(key))
    sandboxes.connect(hub, connections)
    built = scale_hub.build(hub, connections, size)
    print(
        f"hub of {built.people} people and {built.companies} companies built in "
        f"{built.seconds:.1f} s",
        flush=True,
    )
    phases = []
    total = built.people + built.companies
    result = in_child(full_push, url, key, total)
    phases.append(phase("full push, nothing changed", total, 0, result))

    changed = max(1, round(built.people * CHANGED))
    edit_people(hub, changed)
    result = in_child(incremental_push, url, key, changed)
    bound = math.ceil(changed / COLLECTION)
    phases.append(phase(f"incremental push, {CHANGED:.1%} changed", changed, bound, result))
    titles = sandboxes.titles("Head of Buying")
    if titles != changed:
        phases[-1].ok, phases[-1].note = False, f"the org holds {titles} changed titles"

    result = in_child(apollo_plan, url, key, built.companies)
    phases.append(phase("Apollo plan, nothing changed", built.companies, 0, result))
    hub.dispose()
    return phases


def phase(name: str, records: int, bound: int, result: dict[str, Any]) -> Phase:
    bad = result["bad"]
    ok = not bad and result["calls"] <= max(bound, 0) * 1.1
    note = f"unexpected: {bad}" if bad else ""
    return Phase(name, records, result["calls"], bound, result["wall"], result["peak"], ok, note)


def reset(database: str) -> None:
    """A PostgreSQL hub starts empty: the benchmark owns the database it is given."""
    engine = create_engine(database)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class Sandboxes:
    """The Salesforce (HTTPS) and Apollo sandboxes on loopback, for one hub at a time."""

    def __init__(self) -> None:
        from leadbridge.sandbox.apollo import ApolloSandbox
        from leadbridge.sandbox.salesforce import SalesforceSandbox

        self.salesforce = SalesforceSandbox(seed=9)
        self.salesforce.org.daily_limit = 100_000_000
        self.apollo = ApolloSandbox(seed=9)
        self.apollo.knobs.set_rate_limits(minute=10**6, hour=10**7, day=10**8)
        for email in scale_hub.apollo_users():
            self.apollo.add_user(email=email, first_name="Rep", last_name=email[:4])

    def connect(self, hub: Hub, connections: Connections) -> None:
        from leadbridge.engine.systems.apollo_connect import connect_with_key
        from leadbridge.engine.systems.salesforce import connect_salesforce

        url = self.sf_url
        body = self.salesforce.session_token_body(url)
        connect_salesforce(
            hub,
            connections,
            name="salesforce",
            login_url=url,
            token_body=body,
            ca_file=self.ca,
            setup_window_hours=0,
        )
        key = self.apollo.issue_api_key(master=True)
        asyncio.run(connect_with_key(connections, name="apollo", base_url=self.apollo_url, key=key))

    def titles(self, title: str) -> int:
        return sum(1 for r in self.salesforce.org.rows("Contact") if r.get("Title") == title)


def main() -> None:
    from leadbridge.sandbox.server import ServedApp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="hub sizes (people)")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    ok = True
    for size in [int(s) for s in args.sizes.split(",")]:
        sandboxes = Sandboxes()  # fresh per size: the template is pushed again
        cert, tls_key, ca = sandboxes.salesforce.tls_files()
        sandboxes.ca = str(ca)
        with (
            ServedApp(sandboxes.salesforce.app, ssl_certfile=cert, ssl_keyfile=tls_key) as sf,
            ServedApp(sandboxes.apollo.app) as apollo,
        ):
            sandboxes.salesforce.set_base_url(sf.url)
            sandboxes.sf_url, sandboxes.apollo_url = sf.url, apollo.url
            print(f"== {size:,} people ==", flush=True)
            for p in measure(size, args.database, sandboxes):
                print("  " + p.line(), flush=True)
                ok &= p.ok
        sandboxes.salesforce.close()
    if not ok:
        raise SystemExit("a bound was missed or a phase did something it should not have")


if __name__ == "__main__":
    main()
