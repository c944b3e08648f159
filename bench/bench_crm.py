"""Benchmark: the two-way Salesforce sync at scale, against the Salesforce sandbox over HTTPS.

Phases, each with the API calls it spent against its batch bound and its wall time:

1. initial push of N people (as contacts) and M accounts from a fresh hub into an empty org;
   the bound is what sObject Collections would need, ⌈M / 200⌉ + ⌈N / 200⌉, plus the refresh
   pull before a push (4 queries) and a describe per object: above 2,000 records a write goes
   through Bulk API 2.0, so at scale the ratio is far below 1;
2. an incremental push after 0.1 % of the hub's people and accounts changed (the outbox path):
   bound ⌈changed people / 200⌉ + ⌈changed accounts / 200⌉;
3. the read-back pull after the initial push (what was written comes back once: Salesforce may
   have changed it on the way in): bound one query page per 2,000 records, per object;
4. an incremental pull after 0.1 % of the org's contacts and accounts changed: bound one query
   page per object read (User, Account, Contact, Lead); nothing is written back;
5. the full push `serve` runs after every scheduled pull, with nothing changed: bound 0 calls
   (its wall time is the planning of the whole hub).

Calls are the verdict (a noisy machine does not change them); wall times are printed per
record so a regression in the hub side (planning, matching, journaling) shows too.

    python bench/bench_crm.py [--people 50000] [--accounts 10000] [--changed 0.001]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select

from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.session import sync_context
from leadbridge.engine.systems.salesforce import connect_salesforce
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import edit
from leadbridge.hub.tables import Company, Person
from leadbridge.jobs.tasks import drain_task, pull_task, push_all_task, push_task
from leadbridge.normalize import email_key
from leadbridge.policy.crm import CrmSync
from leadbridge.sandbox import fakes
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp
from leadbridge.secrets import SecretBox

COLLECTION = 200
QUERY_PAGE = 2000  # records per REST query page


@dataclass
class Phase:
    name: str
    records: int
    calls: int
    bound: int
    wall: float
    routes: dict[str, int]

    def line(self) -> str:
        ratio = self.calls / self.bound if self.bound else float(self.calls)  # 0 calls: 0.000
        per = self.wall / self.records * 1e3 if self.records else 0.0
        return (
            f"{self.name}: {self.records} records, {self.calls} API calls, bound {self.bound}, "
            f"ratio {ratio:.3f}; wall {self.wall:.1f} s ({per:.3f} ms per record)"
        )


def seed_hub(hub: Hub, accounts: int, people: int) -> None:
    per_company = math.ceil(people / accounts)
    with hub.session() as s:
        made = 0
        for i, fake in enumerate(fakes.companies(accounts, seed=21)):
            company = Company(
                workspace_id=hub.workspace_id,
                name=fake.name,
                domain=fake.domain,
                industry=fake.industry,
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
                        stage="Cold",
                    )
                )
                made += 1


async def measured(
    ctx: SyncContext, name: str, records: int, bound: int, step: Callable[[], Any]
) -> Phase:
    counter = ctx.connector.calls
    before, routes = counter.total, dict(counter.by_route)
    started = time.monotonic()
    await step()
    wall = time.monotonic() - started
    spent = {k: v - routes.get(k, 0) for k, v in counter.by_route.items() if v != routes.get(k)}
    return Phase(name, records, counter.total - before, bound, wall, spent)


def edit_hub(hub: Hub, fraction: float) -> tuple[int, int]:
    """A user's edits to every 1/fraction-th person and company: they go to the outbox."""
    with hub.session() as s:
        people = list(s.scalars(select(Person).order_by(Person.id)))
        companies = list(s.scalars(select(Company).order_by(Company.id)))
        step_p, step_c = round(1 / fraction), round(1 / fraction)
        changed_p = people[::step_p]
        changed_c = companies[::step_c]
        for p in changed_p:
            edit(s, p, {"title": "Head of Buying"}, origin="user")
        for c in changed_c:
            edit(s, c, {"industry": "Retail"}, origin="user")
    return len(changed_p), len(changed_c)


def edit_org(sandbox: SalesforceSandbox, fraction: float) -> tuple[int, int]:
    """A rep's edits in Salesforce to every 1/fraction-th contact and account."""
    org = sandbox.org
    rep = org.add_user("rep@org.example", "Rep", "One")
    step = round(1 / fraction)
    contacts = [r["Id"] for r in org.rows("Contact")][::step]
    accounts = [r["Id"] for r in org.rows("Account")][::step]
    for rid in contacts:
        assert org.bump("Contact", rid, {"Department": "Purchasing"}, rep).success
    for rid in accounts:
        assert org.bump("Account", rid, {"Phone": "+1 555 0100"}, rep).success
    return len(contacts), len(accounts)


class Clock:
    """Wall time plus an offset both the org and the hub read, to skip ahead between runs."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, minutes: float) -> None:
        self.offset += minutes * 60

    def epoch(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), UTC)


async def run(
    args: argparse.Namespace, url: str, ca: str, sandbox: SalesforceSandbox, clock: Clock
) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="leadbridge-bench-crm-"))
    hub = Hub.open(args.database_url or f"sqlite:///{workdir / 'hub.db'}")
    connections = Connections(hub, SecretBox(Fernet.generate_key()))
    org = sandbox.org
    body = sandbox.session_token_body(url)
    connect_salesforce(
        hub,
        connections,
        name="salesforce",
        login_url=url,
        token_body=body,
        ca_file=ca,
        setup_window_hours=0,
    )
    policy = CrmSync.model_validate({"push": {"create_people_as": "Contact"}})
    started = time.monotonic()
    seed_hub(hub, args.accounts, args.people)
    print(
        f"hub seeded: {args.accounts} companies, {args.people} people in "
        f"{time.monotonic() - started:.1f} s"
    )
    ctx = sync_context(hub, connections, policy, clock=clock.now)
    phases = [
        await measured(ctx, "initial pull (empty org)", 0, 4, lambda: pull_task(ctx)),
    ]
    total = args.people + args.accounts
    # + the refresh pull before a push (one query per object) and one describe per object written
    bound = math.ceil(args.accounts / COLLECTION) + math.ceil(args.people / COLLECTION) + 4 + 2
    phases.append(await measured(ctx, "initial push", total, bound, lambda: push_task(ctx)))
    held_contacts = sum(1 for r in org.rows("Contact") if not r["IsDeleted"])
    held_accounts = sum(1 for r in org.rows("Account") if not r["IsDeleted"])
    print(f"org holds {held_accounts} accounts, {held_contacts} contacts")
    ok = held_contacts == args.people and held_accounts == args.accounts
    # The first pull after a push reads back what it wrote (Salesforce may have changed it on
    # the way in: assignment rules, triggers); nothing of it is a change to write back.
    clock.advance(minutes=31)  # the next scheduled pull: past the cursor's 5-minute overlap
    pages = math.ceil(args.people / QUERY_PAGE) + math.ceil(args.accounts / QUERY_PAGE) + 2
    phases.append(await measured(ctx, "read-back pull", total, pages, lambda: pull_task(ctx)))

    changed_p, changed_c = edit_hub(hub, args.changed)
    bound = math.ceil(changed_p / COLLECTION) + math.ceil(changed_c / COLLECTION)
    phases.append(
        await measured(
            ctx,
            f"incremental push ({args.changed:.1%} changed)",
            changed_p + changed_c,
            bound,
            lambda: drain_task(ctx),
        )
    )
    titles = sum(1 for r in org.rows("Contact") if r.get("Title") == "Head of Buying")
    ok &= titles == changed_p

    clock.advance(minutes=31)  # the next scheduled pull: past the cursor's 5-minute overlap
    changed_p, changed_c = edit_org(sandbox, args.changed)
    phases.append(
        await measured(
            ctx,
            f"incremental pull ({args.changed:.1%} changed)",
            changed_p + changed_c,
            4,  # one query page per object: nothing to write back
            lambda: pull_task(ctx),
        )
    )
    # What `serve` does after every scheduled pull: the whole hub under the rules, as a
    # backstop. With nothing changed it must cost no call; its time is the planning of all.
    phases.append(
        await measured(ctx, "scheduled full push (in sync)", total, 0, lambda: push_all_task(ctx))
    )
    for phase in phases:
        print("  " + phase.line())
        if args.routes:
            for route, n in sorted(phase.routes.items()):
                print(f"      {n:5d}  {route}")
        ok &= phase.calls <= phase.bound
    await ctx.connector.aclose()
    hub.dispose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--changed", type=float, default=0.001)
    parser.add_argument("--routes", action="store_true", help="print the calls by route")
    parser.add_argument("--database-url", default=None, help="hub database (default: SQLite)")
    args = parser.parse_args()
    clock = Clock()
    sandbox = SalesforceSandbox(seed=9, clock=clock.epoch)
    sandbox.org.daily_limit = 10_000_000
    cert, key, ca = sandbox.tls_files()
    with ServedApp(sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sandbox.set_base_url(served.url)
        ok = asyncio.run(run(args, served.url, str(ca), sandbox, clock))
    if not ok:
        raise SystemExit("benchmark bound missed (or the org does not hold what was pushed)")


if __name__ == "__main__":
    main()
