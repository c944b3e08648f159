"""Benchmark: write N contacts to the Salesforce sandbox over HTTPS through the connector.

Prints, for sObject Collections, the API calls against the bound ⌈N / 200⌉ plus the one
describe; and for the Bulk API 2.0 path (one ingest job), its calls and wall time.

    python bench/bench_salesforce.py [--contacts 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import ssl
import time

from leadbridge.connectors.http import Budget
from leadbridge.connectors.oauth import HeaderKeyAuth
from leadbridge.connectors.salesforce import SalesforceClient, SalesforceConnector
from leadbridge.sandbox import fakes
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp


async def push(url: str, token: str, ca: str, contacts: int, bulk: bool) -> tuple[int, float, int]:
    client = SalesforceClient(
        url,
        auth=HeaderKeyAuth("Authorization", f"Bearer {token}"),
        verify=ssl.create_default_context(cafile=ca),
        budget=Budget(ceiling=1.0),
    )
    sf = SalesforceConnector(client, bulk_threshold=2000 if bulk else 10**9)
    rows = []
    for i, company in enumerate(fakes.companies(contacts // 10 + 1, 5)):
        for person in fakes.people(10, company.domain, i):
            rows.append(
                (
                    len(rows),
                    {
                        "FirstName": person.first_name,
                        "LastName": person.last_name,
                        "Email": person.email,
                    },
                )
            )
    rows = rows[:contacts]
    started = time.monotonic()
    results = await sf.write("Contact", "create", rows)
    wall = time.monotonic() - started
    calls = client.calls.total
    await client.aclose()
    return calls, wall, sum(1 for r in results if r.ok)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    args = parser.parse_args()
    bound = math.ceil(args.contacts / 200)
    missed = False
    for bulk in (False, True):
        sb = SalesforceSandbox(seed=5)
        sb.org.daily_limit = 10_000_000
        cert, key, ca = sb.tls_files()
        with ServedApp(sb.app, ssl_certfile=cert, ssl_keyfile=key) as served:
            sb.set_base_url(served.url)
            calls, wall, ok = asyncio.run(
                push(served.url, sb.issue_session(), str(ca), args.contacts, bulk)
            )
            held = sum(1 for r in sb.org.rows("Contact") if not r["IsDeleted"])
        path = "bulk 2.0" if bulk else "collections"
        print(f"salesforce {path}: {args.contacts} contacts, {ok} written, {held} in the org")
        if bulk:
            print(
                f"  API calls: {calls} (describe, create job, upload, close, polls, 3 result files)"
            )
        else:
            ratio = calls / (bound + 1)
            print(f"  API calls: {calls}  bound: {bound} + 1 (describe)  ratio: {ratio:.3f}")
            missed |= calls > bound + 1
        print(f"  wall time: {wall:.1f} s ({wall / args.contacts * 1e3:.3f} ms per contact)")
        missed |= held != args.contacts
    if missed:
        raise SystemExit("benchmark bound missed")


if __name__ == "__main__":
    main()
