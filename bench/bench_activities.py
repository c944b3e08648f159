"""Benchmark: push N activities (e-mails, calls, meetings, notes, tasks) from the hub to each
CRM's sandbox over real sockets, and count the API calls against the batch bound.

The bound is what the batch endpoints need and nothing more: Salesforce ⌈Tasks / 200⌉ +
⌈Events / 200⌉ (sObject Collections), HubSpot Σ ⌈engagements of a type / 100⌉ (batch/create
with the associations inline). The run's fixed costs (Salesforce: the describes of Task and
Event; HubSpot: the property lists that show the key property is there) count against it too.
Target: ratio ≤ 1.05. A second run must cost nothing (every activity is linked), and the CRM
must hold exactly N activity records. Calls are the verdict; wall time is printed per record.

    python bench/bench_activities.py [--activities 100000] [--people 500] [--crm both]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from leadbridge.engine.activities.push import push_activities
from leadbridge.engine.sync.session import sync_context
from leadbridge.engine.systems.hubspot import connect_with_token
from leadbridge.engine.systems.salesforce import connect_salesforce
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Activity, Company, Person
from leadbridge.jobs.tasks import pull_task, push_task
from leadbridge.normalize import email_key
from leadbridge.policy.activities import ActivityPush
from leadbridge.policy.crm import CrmSync
from leadbridge.sandbox import fakes
from leadbridge.sandbox.server import ServedApp
from leadbridge.secrets import SecretBox

MIX = (("email", 60), ("call", 15), ("meeting", 10), ("note", 10), ("task", 5))
START = datetime(2026, 6, 1, tzinfo=UTC)
ACTIVITIES = {"enabled": True, "emails": {"outgoing_not_sent_from_hub": True}}


def seed_people(hub: Hub, people: int) -> None:
    with hub.session() as s:
        made = 0
        for i, fake in enumerate(fakes.companies(max(1, people // 5), seed=31)):
            company = Company(workspace_id=hub.workspace_id, name=fake.name, domain=fake.domain,
                              is_lead=False)  # fmt: skip
            s.add(company)
            s.flush()
            for p in fakes.people(min(5, people - made), fake.domain, i):
                s.add(Person(workspace_id=hub.workspace_id, first_name=p.first_name,
                             last_name=p.last_name, email=p.email, email_key=email_key(p.email),
                             email_status="verified", company_id=company.id))  # fmt: skip
                made += 1


def seed_activities(hub: Hub, n: int) -> Counter[str]:
    """N activities spread over the people, in the MIX (bulk rows: the seeding is not what
    is measured)."""
    kinds = [k for k, share in MIX for _ in range(share)]
    with hub.session() as s:
        people = list(s.execute(select(Person.id, Person.company_id, Person.email)))
    made: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for i in range(n):
        pid, cid, email = people[i % len(people)]
        kind = kinds[i % len(kinds)]
        made[kind] += 1
        when = START + timedelta(minutes=i)
        rows.append({
            "workspace_id": hub.workspace_id, "kind": kind, "source": "bench",
            "source_id": str(i), "person_id": pid, "company_id": cid, "occurred_at": when,
            "subject": f"{kind} {i}", "body_preview": "Lorem ipsum dolor sit amet",
            "direction": "outgoing" if kind == "email" else None,
            "from_email": "rep@team.example" if kind == "email" else None,
            "to_emails": [email] if kind == "email" else None,
            "sent_from_sequence": False, "sent_from_hub": kind == "email",
            "call_outcome": "Connected" if kind == "call" else None,
            "call_duration_seconds": 60 + i % 600 if kind == "call" else None,
            "meeting_start": when if kind == "meeting" else None,
            "meeting_end": when + timedelta(minutes=30) if kind == "meeting" else None,
            "due_at": when + timedelta(days=2) if kind == "task" else None,
            "task_status": "open" if kind == "task" else None,
            "created_at": when, "updated_at": when,
        })  # fmt: skip
        if len(rows) == 5000:
            with hub.session() as s:
                s.execute(insert(Activity), rows)
            rows = []
    if rows:
        with hub.session() as s:
            s.execute(insert(Activity), rows)
    return made


def salesforce_bound(made: Counter[str]) -> int:
    events = made["meeting"]
    return math.ceil((sum(made.values()) - events) / 200) + math.ceil(events / 200)


def hubspot_bound(made: Counter[str]) -> int:
    return sum(math.ceil(n / 100) for n in made.values())


async def measure(hub: Hub, connections: Connections, policy: CrmSync, people: int,
                  n: int, label: str, bound_of: Any, held: Any) -> bool:  # fmt: skip
    ctx = sync_context(hub, connections, policy)
    await pull_task(ctx)  # the initial pull (an empty CRM): the people link as they are pushed
    seed_people(hub, people)
    await push_task(ctx)
    made = seed_activities(hub, n)
    bound = bound_of(made)
    before = ctx.connector.calls.total
    started = time.monotonic()
    report = await push_activities(ctx)
    wall = time.monotonic() - started
    calls = ctx.connector.calls.total - before
    again_before = ctx.connector.calls.total
    again = await push_activities(ctx)
    again_calls = ctx.connector.calls.total - again_before
    await ctx.connector.aclose()
    in_crm = held()
    ratio = calls / bound if bound else float(calls)
    print(
        f"{label}: {n} activities ({', '.join(f'{k} {v}' for k, v in sorted(made.items()))}): "
        f"{calls} API calls, batch bound {bound}, ratio {ratio:.3f} (target ≤ 1.05); "
        f"wall {wall:.1f} s ({wall / max(n, 1) * 1e3:.3f} ms per activity)"
    )
    print(f"  created {sum(v for k, v in report.counts.items() if k.endswith('_created'))}, "
          f"failed {report.counts.get('failed', 0)}; the CRM holds {in_crm}; "
          f"a second run: {again_calls} calls, run {again.run_id}")  # fmt: skip
    return ratio <= 1.05 and in_crm == n and again_calls == 0 and again.run_id is None


def bench_salesforce(args: argparse.Namespace) -> bool:
    from leadbridge.sandbox.salesforce import SalesforceSandbox

    sandbox = SalesforceSandbox(seed=11)
    for sobject in ("Task", "Event"):
        sandbox.org.add_custom_field(sobject, "Leadbridge_Activity_Id__c", length=64,
                                     external_id=True, unique=True)  # fmt: skip
    cert, key, ca = sandbox.tls_files()
    workdir = Path(tempfile.mkdtemp(prefix="leadbridge-bench-activities-"))
    hub = Hub.open(f"sqlite:///{workdir / 'sf.db'}")
    connections = Connections(hub, SecretBox(Fernet.generate_key()))
    with ServedApp(sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sandbox.set_base_url(served.url)
        org = sandbox.org
        body = sandbox.session_token_body(served.url)
        connect_salesforce(hub, connections, name="salesforce", login_url=served.url,
                           token_body=body, ca_file=str(ca), setup_window_hours=0)  # fmt: skip
        policy = CrmSync.model_validate(
            {"push": {"create_people_as": "Contact"}, "activities": ACTIVITIES}
        )

        def held() -> int:
            return sum(1 for o in ("Task", "Event") for r in org.rows(o) if not r["IsDeleted"])

        ok = asyncio.run(measure(hub, connections, policy, args.people, args.activities,
                                 "salesforce", salesforce_bound, held))  # fmt: skip
    hub.dispose()
    return ok


def bench_hubspot(args: argparse.Namespace) -> bool:
    from leadbridge.sandbox.hubspot import HubSpotSandbox

    sandbox = HubSpotSandbox(seed=11)
    sandbox.knobs.burst_limit = 1_000_000  # the limits have their own bench
    sandbox.knobs.daily_limit = 100_000_000
    workdir = Path(tempfile.mkdtemp(prefix="leadbridge-bench-activities-"))
    hub = Hub.open(f"sqlite:///{workdir / 'hs.db'}")
    connections = Connections(hub, SecretBox(Fernet.generate_key()))
    with ServedApp(sandbox.app) as served:
        sandbox.set_base_url(served.url)
        token = sandbox.issue_private_app_token()
        for kind in ("emails", "calls", "meetings", "notes", "tasks"):
            answer = httpx.post(
                f"{served.url}/crm/v3/properties/{kind}",
                headers={"Authorization": f"Bearer {token}"},
                json={"name": "leadbridge_activity_id", "label": "leadbridge activity id",
                      "type": "string", "fieldType": "text", "hasUniqueValue": True,
                      "groupName": f"{kind[:-1]}information"},
            )  # fmt: skip
            answer.raise_for_status()
        asyncio.run(connect_with_token(connections, name="hubspot", token=token,
                                       base_url=served.url, setup_window_hours=0))  # fmt: skip
        policy = CrmSync.model_validate({"connection": "hubspot", "activities": ACTIVITIES})

        def held() -> int:
            return sum(sandbox.count(k) for k in ("emails", "calls", "meetings", "notes", "tasks"))

        ok = asyncio.run(measure(hub, connections, policy, args.people, args.activities,
                                 "hubspot", hubspot_bound, held))  # fmt: skip
    hub.dispose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--crm", choices=("salesforce", "hubspot", "both"), default="both")
    args = parser.parse_args()
    ActivityPush.model_validate(ACTIVITIES)
    ok = True
    if args.crm in ("salesforce", "both"):
        ok &= bench_salesforce(args)
    if args.crm in ("hubspot", "both"):
        ok &= bench_hubspot(args)
    print("OK" if ok else "OVER BOUND (or records missing)")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
