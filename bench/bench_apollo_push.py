"""Benchmark: push N qualified companies to the Apollo sandbox over real sockets.

Prints the API calls spent against the bound ⌈N / batch⌉ (plus the user sync and the custom
field lookup), and the wall time against what Apollo's per-minute limit would allow. Ratios,
not seconds, are the verdict: a noisy machine does not change the number of calls.

    python bench/bench_apollo_push.py [--companies 10000] [--batch 100]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from leadbridge.engine.leadpush.run import LeadPush
from leadbridge.engine.systems.apollo_connect import connect_with_key
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Company, User, utcnow
from leadbridge.sandbox import fakes
from leadbridge.sandbox.server import ServedApp
from leadbridge.secrets import SecretBox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--per-minute", type=int, default=200, help="Apollo's per-minute limit")
    args = parser.parse_args()

    from leadbridge.sandbox.apollo import ApolloSandbox

    workdir = Path(tempfile.mkdtemp(prefix="leadbridge-bench-"))
    hub = Hub.open(f"sqlite:///{workdir / 'hub.db'}")
    connections = Connections(hub, SecretBox(Fernet.generate_key()))
    sandbox = ApolloSandbox(seed=11)
    sandbox.knobs.set_rate_limits(minute=1_000_000, hour=10_000_000, day=100_000_000)
    reps = [p.email for p in fakes.people(5, "team.example", 11)]
    for email in reps:
        sandbox.add_user(email=email, first_name="Rep", last_name=email[:4])
    with hub.session() as s:
        users = [User(workspace_id=hub.workspace_id, email=e) for e in reps]
        s.add_all(users)
        s.flush()
        old = utcnow() - timedelta(hours=1)
        s.add_all(
            Company(
                workspace_id=hub.workspace_id,
                name=c.name,
                domain=c.domain,
                icp_fit="strong",
                stage="evaluation",
                owner_id=users[i % len(users)].id,
                updated_at=old,
            )
            for i, c in enumerate(fakes.companies(args.companies, 11))
        )

    with ServedApp(sandbox.app) as served:
        key = sandbox.issue_api_key(master=True)
        info = asyncio.run(
            connect_with_key(connections, name="apollo", base_url=served.url, key=key)
        )
        settings = {"apollo_push": {"batch_size": args.batch}}
        connections.update_settings(info.id, settings)
        push = LeadPush(hub, connections, connections.get("apollo"))
        started = time.monotonic()
        report = asyncio.run(push.run())
        wall = time.monotonic() - started
        held = len(sandbox.accounts())

    bound = math.ceil(args.companies / args.batch)
    overhead = 2  # users/search (one page) + typed_custom_fields (once per connection)
    ratio = report.api_calls / (bound + overhead)
    rate_bound = max(0.0, (report.api_calls - args.per_minute) / args.per_minute * 60)
    print(f"apollo-push: {args.companies} qualified companies, batch {args.batch}")
    print(f"  accounts in Apollo after the run: {held} (created {report.counts['created']})")
    print(
        f"  API calls: {report.api_calls}  bound: {bound} + {overhead} (user sync, custom field)"
        f"  ratio: {ratio:.3f}  (target ≤ 1.05)"
    )
    print(
        f"  wall time: {wall:.1f} s; at {args.per_minute} calls/min Apollo needs at least "
        f"{rate_bound:.1f} s for these calls; per company: {wall / args.companies * 1e3:.2f} ms"
    )
    if held != args.companies or ratio > 1.05:
        raise SystemExit("benchmark bound missed")


if __name__ == "__main__":
    main()
