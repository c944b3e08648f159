"""Benchmark: 10,000 companies, then 50,000 contacts (each with its primary company), written
through the HubSpot connector into the sandbox at the 190-per-10-s tier.

Prints the API calls against ⌈records / 100⌉ (target ≤ 1.05×; the schema reads count against
it) and the wall time against the rate-limit bound, calls ÷ 19 per second (target ≤ 1.15×).

    python bench/bench_hubspot_connector.py [--companies 10000] [--contacts 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import time
from typing import Any

import httpx

from leadbridge.connectors.http import Budget
from leadbridge.connectors.hubspot import HubSpotClient, HubSpotConnector, private_app_auth
from leadbridge.sandbox import fakes
from leadbridge.sandbox.hubspot import HubSpotSandbox
from leadbridge.sandbox.server import ServedApp, free_port

TIER = "enterprise"  # 190 per rolling 10 s
CALLS_TARGET, WALL_TARGET = 1.05, 1.15


def data(companies: int, contacts: int) -> tuple[list[Any], list[Any]]:
    made = list(fakes.companies(companies, 7))
    rows = [(i, {"name": c.name, "domain": c.domain}) for i, c in enumerate(made)]
    per = math.ceil(contacts / max(1, companies))
    people = []
    for i, company in enumerate(made):
        for p in fakes.people(per, company.domain, i):
            people.append((len(people), i, p))
    return rows, people[:contacts]


async def push(url: str, token: str, companies: int, contacts: int) -> dict[str, Any]:
    client = HubSpotClient(url, auth=private_app_auth(token), budget=Budget(ceiling=1.0))
    hs = HubSpotConnector(client)
    company_rows, people = data(companies, contacts)
    started = time.monotonic()
    made = await hs.write("companies", "create", company_rows)
    ids = [r.remote_id for r in made]
    contact_rows = [
        (n, {"email": p.email, "firstname": p.first_name, "lastname": p.last_name,
             "associatedcompanyid": ids[c]})
        for n, c, p in people
    ]  # fmt: skip
    written = await hs.write("contacts", "create", contact_rows)
    wall = time.monotonic() - started
    out = {
        "wall": wall,
        "calls": client.calls.total,
        "routes": dict(client.calls.by_route),
        "ok": sum(r.ok for r in made) + sum(r.ok for r in written),
        "contacts": [r.remote_id for r in written if r.ok],
    }
    await hs.aclose()
    return out


def serve(port: int, ready: Any, stop: Any) -> None:
    """The sandbox in its own process, as HubSpot is not in ours: the client's CPU and the
    portal's do not queue behind one interpreter lock."""
    sb = HubSpotSandbox(seed=11)
    sb.knobs.set_tier(TIER)
    sb.knobs.daily_limit = 10_000_000
    sb.add_owner("owner@portal.example", "Portal", "Owner")
    with ServedApp(sb.app, port=port) as served:
        sb.set_base_url(served.url)
        ready.put((served.url, sb.issue_private_app_token(), sb.knobs.burst_limit))
        stop.wait()


def inspect(url: str, path: str) -> Any:
    with httpx.Client(base_url=url, trust_env=False, timeout=60) as http:
        return http.get(f"/__admin__{path}").json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=50_000)
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    ready, stop = spawn.Queue(), spawn.Event()
    portal = spawn.Process(target=serve, args=(free_port(), ready, stop), daemon=True)
    portal.start()
    try:
        url, token, burst = ready.get(timeout=60)
        run = asyncio.run(push(url, token, args.companies, args.contacts))
        counts = inspect(url, "/portal")["counts"]
        held = (counts["companies"], counts["contacts"])
        step = max(1, args.contacts // 50)
        sample = [inspect(url, f"/objects/contacts/{i}") for i in run["contacts"][::step]]
    finally:
        stop.set()
        portal.join(10)
    records = args.companies + args.contacts
    bound = math.ceil(args.companies / 100) + math.ceil(args.contacts / 100)
    calls, wall = run["calls"], run["wall"]
    rate_bound = calls / (burst / 10)
    linked = sum(1 for c in sample if c["properties"].get("associatedcompanyid"))
    print(f"hubspot connector ({TIER}, {burst}/10 s): {records} records")
    print(f"  written: {run['ok']}; the portal holds {held[0]} companies, {held[1]} contacts")
    print(f"  contacts with their primary company (sample): {linked}/{len(sample)}")
    print(f"  API calls: {calls}  bound: {bound}  ratio: {calls / bound:.3f} (target ≤ 1.05)")
    print(f"    {run['routes']}")
    print(
        f"  wall time: {wall:.1f} s  rate-limit bound: {rate_bound:.1f} s  "
        f"ratio: {wall / rate_bound:.3f} (target ≤ 1.15)"
    )
    if (
        calls > CALLS_TARGET * bound
        or wall > WALL_TARGET * rate_bound
        or held != (args.companies, args.contacts)
        or linked != len(sample)
    ):
        raise SystemExit("benchmark target missed")


if __name__ == "__main__":
    main()
