"""Benchmark: the two-way HubSpot sync at scale, through the engine (jobs.tasks), against the
HubSpot sandbox at the 190-per-10-s tier, served from its own process as HubSpot is not in ours.

Phases, each with its API calls against the batch bound and its wall time against the rate-limit
bound (calls ÷ 19 per second at this tier):

1. the initial pull of an empty portal (owners, companies, contacts);
2. the initial push of N people and M companies from a fresh hub: bound ⌈M / 100⌉ + ⌈N / 100⌉
   (targets: calls ≤ 1.05× the bound, wall ≤ 1.15× the rate-limit bound: the calls at the
   tier's pace, searches at their own 5 a second). The time the API
   writes take is shown apart from the hub's own work (planning, intents, journal, mirror);
3. an incremental push after 0.1 % of the hub's people and companies changed (the outbox path,
   as `serve` drains it): bound ⌈changed people / 100⌉ + ⌈changed companies / 100⌉;
4. with --pulls: the read-back pull after the push (search, 200 a call at its own 5 a second)
   and an incremental pull after 0.1 % changed in HubSpot.

--profile prints where the push's own time goes (cProfile, the top functions by own time).

    python bench/bench_hubspot.py [--people 50000] [--companies 10000] [--changed 0.001]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import math
import multiprocessing
import pstats
import queue
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import select

from leadbridge.connectors.hubspot.limits import SEARCH_PER_SECOND
from leadbridge.engine.sync.session import sync_context
from leadbridge.engine.systems.hubspot import connect_with_token
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import edit
from leadbridge.hub.tables import Company, Person
from leadbridge.jobs.tasks import drain_task, pull_task, push_task
from leadbridge.normalize import email_key
from leadbridge.policy.crm import CrmSync
from leadbridge.sandbox import fakes
from leadbridge.sandbox.hubspot import HubSpotSandbox
from leadbridge.sandbox.server import ServedApp, free_port
from leadbridge.secrets import SecretBox

TIER = "enterprise"  # 190 per rolling 10 s
BATCH = 100
SEARCH_PAGE = 200
CALLS_TARGET, WALL_TARGET = 1.05, 1.15


@dataclass
class Phase:
    name: str
    records: int
    calls: int
    bound: int
    wall: float
    api_wall: float  # time inside the connector's writes and reads
    rate_bound: float  # seconds the calls take at the limits: the tier's, search's 5 a second
    routes: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        ratio = self.calls / self.bound if self.bound else float(self.calls)
        rate_bound = self.rate_bound
        out = [
            f"{self.name}: {self.records} records, {self.calls} API calls, bound {self.bound}, "
            f"ratio {ratio:.3f}"
        ]
        if rate_bound:
            out.append(
                f"    wall {self.wall:.1f} s against the rate-limit bound {rate_bound:.1f} s: "
                f"ratio {self.wall / rate_bound:.3f}; the API part {self.api_wall:.1f} s "
                f"(ratio {self.api_wall / rate_bound:.3f}), the hub's own "
                f"{self.wall - self.api_wall:.1f} s "
                f"({(self.wall - self.api_wall) / max(1, self.records) * 1e3:.2f} ms per record)"
            )
        else:
            out.append(f"    wall {self.wall:.1f} s")
        return out


class ApiClock:
    """Time spent inside the connector (every write and read), however the engine calls it."""

    def __init__(self, connector: Any) -> None:
        self.spent = 0.0
        write, read = connector.write, connector.read_changed

        async def timed_write(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return await write(*args, **kwargs)
            finally:
                self.spent += time.monotonic() - started

        async def timed_read(*args: Any, **kwargs: Any) -> Any:
            pages = read(*args, **kwargs)
            while True:
                started = time.monotonic()
                try:
                    page = await pages.__anext__()
                except StopAsyncIteration:
                    self.spent += time.monotonic() - started
                    return
                self.spent += time.monotonic() - started
                yield page

        connector.write, connector.read_changed = timed_write, timed_read


def seed_hub(hub: Hub, companies: int, people: int) -> None:
    per_company = math.ceil(people / companies)
    with hub.session() as s:
        made = 0
        for i, fake in enumerate(fakes.companies(companies, seed=21)):
            company = Company(
                workspace_id=hub.workspace_id,
                name=fake.name,
                domain=fake.domain,
                employee_count=fake.employees,
                is_lead=False,
            )
            s.add(company)
            s.flush()
            for p in fakes.people(min(per_company, people - made), fake.domain, i):
                s.add(
                    Person(
                        workspace_id=hub.workspace_id,
                        first_name=p.first_name,
                        last_name=p.last_name,
                        email=p.email,
                        email_key=email_key(p.email),
                        email_status="verified",
                        title="Buyer",
                        company_id=company.id,
                    )
                )
                made += 1


def edit_hub(hub: Hub, fraction: float) -> tuple[int, int]:
    """A user's edits to every 1/fraction-th person and company: they go to the outbox."""
    step = round(1 / fraction)
    with hub.session() as s:
        people = list(s.scalars(select(Person).order_by(Person.id)))[::step]
        companies = list(s.scalars(select(Company).order_by(Company.id)))[::step]
        for p in people:
            edit(s, p, {"title": "Head of Buying"}, origin="user")
        for c in companies:
            edit(s, c, {"employee_count": (c.employee_count or 0) + 1}, origin="user")
    return len(people), len(companies)


class Clock:
    """Wall time plus an offset, to skip ahead between runs (past the cursor's overlap)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def epoch(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), UTC)


def serve(port: int, ready: Any, stop: Any, commands: Any) -> None:
    """The portal in its own process. `commands`: ("advance", seconds) moves its clock as the
    hub's moves; ("edit", fraction) edits every 1/fraction-th contact as a HubSpot user."""
    clock = Clock()
    sb = HubSpotSandbox(seed=11, clock=clock.epoch)
    sb.knobs.set_tier(TIER)
    sb.knobs.daily_limit = 10_000_000
    sb.add_owner("owner@portal.example", "Portal", "Owner")
    with ServedApp(sb.app, port=port) as served:
        sb.set_base_url(served.url)
        ready.put((served.url, sb.issue_private_app_token(), sb.knobs.burst_limit))
        while not stop.is_set():
            try:
                command, value = commands.get(timeout=0.2)
            except queue.Empty:
                continue
            if command == "advance":
                clock.offset += value
                ready.put(clock.offset)
            else:
                contacts = [r["id"] for r in sb.objects("contacts")][:: round(1 / value)]
                for rid in contacts:  # a CRM-owned field: it flows into the hub, nothing back
                    sb.console.update("contacts", rid, {"hs_lead_status": "CONNECTED"})
                ready.put(len(contacts))


def portal_counts(url: str) -> dict[str, int]:
    with httpx.Client(base_url=url, trust_env=False, timeout=60) as http:
        return dict(http.get("/__admin__/portal").json()["counts"])


Step = Callable[[], Awaitable[Any]]


async def measured(
    ctx: Any, clock: ApiClock, name: str, records: int, bound: int, step: Step
) -> Phase:
    counter = ctx.connector.calls
    before, routes, api = counter.total, dict(counter.by_route), clock.spent
    started = time.monotonic()
    await step()
    wall = time.monotonic() - started
    spent = {k: v - routes.get(k, 0) for k, v in counter.by_route.items() if v != routes.get(k)}
    tier = (ctx.connector.client.rate.tier or 190) / 10
    searches = sum(n for route, n in spent.items() if route.endswith("/search"))
    rate_bound = searches / SEARCH_PER_SECOND + (sum(spent.values()) - searches) / tier
    return Phase(
        name, records, counter.total - before, bound, wall, clock.spent - api, rate_bound, spent
    )


async def run(args: argparse.Namespace, url: str, token: str, ready: Any, commands: Any) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="leadbridge-bench-hubspot-"))
    hub = Hub.open(args.database_url or f"sqlite:///{workdir / 'hub.db'}")
    connections = Connections(hub, SecretBox(Fernet.generate_key()))
    await connect_with_token(
        connections, name="hubspot", token=token, base_url=url, setup_window_hours=0
    )
    started = time.monotonic()
    seed_hub(hub, args.companies, args.people)
    print(f"hub seeded: {args.companies} companies, {args.people} people in "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
    time_now = Clock()
    ctx = sync_context(hub, connections, CrmSync(connection="hubspot"), clock=time_now.now)
    clock = ApiClock(ctx.connector)

    def advance(minutes: float) -> None:  # the next scheduled pull: past the 5-minute overlap
        time_now.offset += minutes * 60
        commands.put(("advance", minutes * 60))
        ready.get(timeout=60)

    phases = [
        await measured(ctx, clock, "initial pull (empty portal)", 0, 4, lambda: pull_task(ctx))
    ]
    total = args.people + args.companies
    bound = math.ceil(args.companies / BATCH) + math.ceil(args.people / BATCH)
    profile = cProfile.Profile() if args.profile else None

    async def initial_push() -> Any:
        if profile is not None:
            profile.enable()
        try:
            return await push_task(ctx)
        finally:
            if profile is not None:
                profile.disable()

    phases.append(await measured(ctx, clock, "initial push", total, bound, initial_push))
    counts = portal_counts(url)
    print(f"the portal holds {counts['companies']} companies, {counts['contacts']} contacts")
    ok = (counts["companies"], counts["contacts"]) == (args.companies, args.people)

    changed_p, changed_c = edit_hub(hub, args.changed)
    bound = math.ceil(changed_p / BATCH) + math.ceil(changed_c / BATCH)
    phases.append(
        await measured(
            ctx,
            clock,
            f"incremental push ({args.changed:.1%} changed)",
            changed_p + changed_c,
            bound,
            lambda: drain_task(ctx),
        )
    )
    if args.pulls:
        advance(minutes=31)
        # + owners (2) + a last page per object + the archived (deletions), a list per object
        pages = math.ceil(total / SEARCH_PAGE) + 2 + 2 + 2
        phases.append(
            await measured(ctx, clock, "read-back pull", total, pages, lambda: pull_task(ctx))
        )
        advance(minutes=31)
        commands.put(("edit", args.changed))
        changed = ready.get(timeout=600)
        phases.append(
            await measured(
                ctx,
                clock,
                f"incremental pull ({args.changed:.1%} changed)",
                changed,
                # owners, one search per object, the archived (one list per object)
                math.ceil(changed / SEARCH_PAGE) + 2 + 2 + 2,
                lambda: pull_task(ctx),
            )
        )
    for phase in phases:
        for line in phase.lines():
            print("  " + line)
        if args.routes:
            for route, n in sorted(phase.routes.items()):
                print(f"      {n:6d}  {route}")
    push_phase = phases[1]
    rate_bound = push_phase.rate_bound
    ok &= push_phase.calls <= CALLS_TARGET * push_phase.bound
    ok &= phases[2].calls <= phases[2].bound
    print(
        f"initial push: calls {push_phase.calls / push_phase.bound:.3f}× the batch bound "
        f"(target ≤ {CALLS_TARGET}); wall {push_phase.wall / rate_bound:.3f}× the rate-limit "
        f"bound, its API part {push_phase.api_wall / rate_bound:.3f}× (target ≤ {WALL_TARGET})"
    )
    if push_phase.wall > WALL_TARGET * rate_bound:
        # Reported, not failed: `./dev bench` runs every benchmark, and this one measures the
        # hub's share as it is (see --profile).
        print(
            f"  wall target missed: the hub's own work ({push_phase.wall - push_phase.api_wall:.1f}"
            " s: planning, intents, journal, mirror, links on the hub database) adds to the API's"
        )
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    await ctx.connector.aclose()
    hub.dispose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.001)
    parser.add_argument("--pulls", action="store_true", help="also the read-back and a pull")
    parser.add_argument("--profile", action="store_true", help="profile the initial push")
    parser.add_argument("--routes", action="store_true", help="print the calls by route")
    parser.add_argument("--database-url", default=None, help="hub database (default: SQLite)")
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    ready, stop, commands = spawn.Queue(), spawn.Event(), spawn.Queue()
    portal = spawn.Process(target=serve, args=(free_port(), ready, stop, commands), daemon=True)
    portal.start()
    try:
        url, token, _ = ready.get(timeout=60)
        ok = asyncio.run(run(args, url, token, ready, commands))
    finally:
        stop.set()
        portal.join(10)
    if not ok:
        raise SystemExit("benchmark target missed (or the portal does not hold what was pushed)")


if __name__ == "__main__":
    main()
