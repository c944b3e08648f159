"""Benchmark: leadbridge against the scripts a user would write, in one run, on one data set.

The same companies (as accounts) and people (as contacts of their company) go into a fresh
Salesforce sandbox three ways: leadbridge (hub → `push`, with its refresh pull, dedup and
journal), a per-record simple-salesforce script (`sf.Account.create`, `sf.Contact.create`), and
an expert's simple-salesforce bulk2 script (accounts in one job, their ids read back, contacts in
a second job). Printed: calls and wall time of each, as ratios to leadbridge's, and what they
would be on a real org that adds `--latency` seconds to every call.

    python bench/bench_vs_script.py [--people 5000] [--companies 1000] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from simple_salesforce import Salesforce

from leadbridge.engine.sync.session import sync_context
from leadbridge.engine.systems.salesforce import connect_salesforce
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Company, Person
from leadbridge.jobs.tasks import pull_task, push_task
from leadbridge.normalize import email_key
from leadbridge.policy.crm import CrmSync
from leadbridge.sandbox import fakes
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp
from leadbridge.secrets import SecretBox


@dataclass
class Result:
    name: str
    calls: int
    wall: float
    contacts: int
    accounts: int

    def projected(self, latency: float) -> float:
        return self.wall + self.calls * latency


def data(companies: int, people: int) -> list[tuple[Any, list[Any]]]:
    per = -(-people // companies)
    out, made = [], 0
    for i, company in enumerate(fakes.companies(companies, seed=33)):
        staff = list(fakes.people(min(per, people - made), company.domain, i))
        made += len(staff)
        out.append((company, staff))
    return out


class Org:
    """A fresh sandbox org served over HTTPS for one contender."""

    def __enter__(self) -> Org:
        self.sandbox = SalesforceSandbox(seed=9)
        self.sandbox.org.daily_limit = 10_000_000
        cert, key, ca = self.sandbox.tls_files()
        self.served = ServedApp(self.sandbox.app, ssl_certfile=cert, ssl_keyfile=key).start()
        self.sandbox.set_base_url(self.served.url)
        self.url, self.ca = self.served.url, str(ca)
        return self

    def __exit__(self, *exc: object) -> None:
        self.served.stop()

    def held(self, obj: str) -> int:
        return sum(1 for r in self.sandbox.org.rows(obj) if not r["IsDeleted"])

    def client(self) -> tuple[Salesforce, requests.Session]:
        session = requests.Session()
        session.verify, session.trust_env = self.ca, False
        counted = Counted(session)
        sf = Salesforce(
            instance_url=self.url,
            session_id=self.sandbox.issue_session(),
            session=counted,
            version="59.0",
        )
        return sf, counted


class Counted(requests.Session):
    """A requests session that counts what it sends (every call the script makes)."""

    def __init__(self, inner: requests.Session) -> None:
        super().__init__()
        self.verify, self.trust_env = inner.verify, inner.trust_env
        self.calls = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.calls += 1
        return super().request(*args, **kwargs)


def leadbridge(rows: list[tuple[Any, list[Any]]]) -> Result:
    with Org() as org:
        workdir = Path(tempfile.mkdtemp(prefix="leadbridge-bench-vs-"))
        hub = Hub.open(f"sqlite:///{workdir / 'hub.db'}")
        connections = Connections(hub, SecretBox(Fernet.generate_key()))
        body = org.sandbox.session_token_body(org.url)
        connect_salesforce(
            hub,
            connections,
            name="salesforce",
            login_url=org.url,
            token_body=body,
            ca_file=org.ca,
            setup_window_hours=0,
        )
        with hub.session() as s:
            for company, staff in rows:
                c = Company(
                    workspace_id=hub.workspace_id,
                    name=company.name,
                    domain=company.domain,
                    is_lead=False,
                )
                s.add(c)
                s.flush()
                for p in staff:
                    s.add(
                        Person(
                            workspace_id=hub.workspace_id,
                            first_name=p.first_name,
                            last_name=p.last_name,
                            email=p.email,
                            email_key=email_key(p.email),
                            email_status="verified",
                            company_id=c.id,
                        )
                    )
        policy = CrmSync.model_validate({"push": {"create_people_as": "contact"}})

        async def go() -> tuple[int, float]:
            ctx = sync_context(hub, connections, policy)
            await pull_task(ctx)  # the initial pull of the empty org: not counted
            before, started = ctx.connector.calls.total, time.monotonic()
            await push_task(ctx)
            calls, wall = ctx.connector.calls.total - before, time.monotonic() - started
            await ctx.connector.aclose()
            return calls, wall

        calls, wall = asyncio.run(go())
        hub.dispose()
        return Result("leadbridge push", calls, wall, org.held("Contact"), org.held("Account"))


def per_record(rows: list[tuple[Any, list[Any]]]) -> Result:
    with Org() as org:
        sf, counted = org.client()
        started = time.monotonic()
        for company, staff in rows:
            account = sf.Account.create({"Name": company.name, "Website": company.domain})
            for p in staff:
                sf.Contact.create(
                    {
                        "FirstName": p.first_name,
                        "LastName": p.last_name,
                        "Email": p.email,
                        "AccountId": account["id"],
                    }
                )
        wall = time.monotonic() - started
        return Result(
            "per-record script", counted.calls, wall, org.held("Contact"), org.held("Account")
        )


def bulk2(rows: list[tuple[Any, list[Any]]]) -> Result:
    with Org() as org:
        sf, counted = org.client()
        started = time.monotonic()
        accounts = [{"Name": c.name, "Website": c.domain} for c, _ in rows]
        (job,) = sf.bulk2.Account.insert(records=accounts, wait=0.05)
        ids: dict[str, str] = {}
        for row in csv.DictReader(
            io.StringIO(sf.bulk2.Account.get_successful_records(job["job_id"]))
        ):
            ids[row["Website"]] = row["sf__Id"]
        contacts = [
            {
                "FirstName": p.first_name,
                "LastName": p.last_name,
                "Email": p.email,
                "AccountId": ids[c.domain],
            }
            for c, staff in rows
            for p in staff
        ]
        sf.bulk2.Contact.insert(records=contacts, wait=0.05)
        wall = time.monotonic() - started
        return Result("bulk2 script", counted.calls, wall, org.held("Contact"), org.held("Account"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds a real org adds a call")
    args = parser.parse_args()
    rows = data(args.companies, args.people)
    results = [leadbridge(rows), per_record(rows), bulk2(rows)]
    ours = results[0]
    print(f"{args.people} people and {args.companies} companies into a fresh org, three ways:")
    for r in results:
        print(
            f"  {r.name:18s} {r.calls:6d} calls ({r.calls / ours.calls:7.2f}× leadbridge), "
            f"wall {r.wall:6.1f} s ({r.wall / ours.wall:5.2f}×); at {args.latency:g} s a call "
            f"{r.projected(args.latency):7.1f} s; org holds {r.accounts} accounts, "
            f"{r.contacts} contacts"
        )
    script, expert = results[1], results[2]
    print(
        f"  targets: calls vs the per-record script ≥ 50× fewer (now "
        f"{script.calls / ours.calls:.0f}×); wall within 1.5× of bulk2 (now "
        f"{ours.wall / expert.wall:.2f}×; at {args.latency:g} s a call "
        f"{ours.projected(args.latency) / expert.projected(args.latency):.2f}×)"
    )


if __name__ == "__main__":
    main()
