"""Injected faults: 5xx, lost answers, 429 bursts, garbage, expiring and rotating OAuth tokens,
and a SIGKILL mid-run. Whatever happens, every qualified company ends as exactly one account."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from leadbridge.connectors.http import RetryPolicy
from leadbridge.engine.leadpush.run import LeadPush
from leadbridge.engine.systems.apollo_connect import OAUTH_SCOPES, connect_with_oauth
from leadbridge.hub.tables import RecordLink, SyncRun, utcnow
from leadbridge.jobs.tasks import lead_push_task
from leadbridge.settings import get_settings
from tests.e2e.conftest import World, lead

FAST = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05, max_rate_limit_wait=5)


def later(hours: float) -> Any:
    return lambda: utcnow() + timedelta(hours=hours)


def run_until_settled(world: World, runs: int = 6) -> list[Any]:
    """Runs as the scheduler would, each 'later' so backoff windows have passed."""
    reports = []
    for i in range(runs):
        push = LeadPush(
            world.hub, world.connections, world.connection, policy=FAST, clock=later(i * 7)
        )
        reports.append(asyncio.run(push.run()))
        if reports[-1].counts["failed"] == 0:
            break
    return reports


def assert_exactly_once(world: World, domains: list[str]) -> None:
    held = Counter(a["domain"] for a in world.accounts())
    assert held == Counter(domains), {d: n for d, n in held.items() if n != 1}
    with world.hub.session() as s:
        links = s.scalars(select(RecordLink)).all()
    assert sorted(link.remote_id or "" for link in links) == sorted(
        a["id"] for a in world.accounts()
    )
    assert {link.status for link in links} <= {"created", "adopted"}


def test_5xx_lost_answers_429s_and_garbage_still_end_in_exactly_one_account_each(
    world: World,
) -> None:
    domains = [f"co{i}.com" for i in range(120)]
    world.companies([lead(d) for d in domains])
    connection = world.connection
    world.connections.update_settings(connection.id, {"apollo_push": {"batch_size": 10}})
    knobs = world.sandbox.knobs
    knobs.error_rate_5xx = 0.3
    knobs.fail_after_commit = True  # half the 500s come after the create landed
    knobs.burst_429(3, retry_after=1)
    knobs.garbage_next(2)

    reports = run_until_settled(world)

    knobs.error_rate_5xx = 0.0
    assert reports[-1].counts["failed"] == 0
    assert_exactly_once(world, domains)


def test_oauth_tokens_expire_and_rotate_mid_run(
    apollo_sandbox: Any, hub: Any, connections: Any, tmp_path: Path
) -> None:
    from leadbridge.hub.imports import import_users
    from leadbridge.sandbox.server import ServedApp

    (tmp_path / "u.csv").write_text("email\nann@team.example\n")
    import_users(hub, tmp_path / "u.csv")
    apollo_sandbox.add_user(email="ann@team.example", first_name="Ann", last_name="Rep")
    with ServedApp(apollo_sandbox.app) as served:
        client_id, secret = apollo_sandbox.register_oauth_app(
            redirect_uris=["http://127.0.0.1:9/callback"], scopes=[]
        )
        # The user approves on the sandbox's authorize page; we take the code from the redirect.
        approve = httpx.post(
            f"{served.url}/oauth/authorize",
            data={
                "client_id": client_id,
                "redirect_uri": "http://127.0.0.1:9/callback",
                "response_type": "code",
                "state": "s1",
                "scope": OAUTH_SCOPES,
            },
            follow_redirects=False,
        )
        code = httpx.URL(approve.headers["location"]).params["code"]
        asyncio.run(
            connect_with_oauth(
                connections,
                name="apollo",
                base_url=served.url,
                client_id=client_id,
                client_secret=secret,
                code=code,
                redirect_uri="http://127.0.0.1:9/callback",
            )
        )
        world = World(apollo_sandbox, served.url, hub, connections, tmp_path, {})
        domains = [f"co{i}.com" for i in range(60)]
        world.companies([lead(d, owner="ann@team.example") for d in domains])
        connections.update_settings(world.connection.id, {"apollo_push": {"batch_size": 5}})
        apollo_sandbox.knobs.access_token_ttl = 3600
        creds_before, _ = connections.credentials(world.connection.id)
        # Tokens die server-side mid-run (a clock jump): each 401 must refresh once and go on.
        apollo_sandbox.knobs.expire_tokens_every = 4
        report = asyncio.run(LeadPush(hub, connections, world.connection, policy=FAST).run())
        creds_after, _ = connections.credentials(world.connection.id)

    assert report.status == "succeeded", report.message
    assert_exactly_once(world, domains)
    assert creds_after["refresh_token"] != creds_before["refresh_token"]  # rotated and saved


def test_sigkill_midway_then_rerun_leaves_no_duplicate_and_misses_nothing(world: World) -> None:
    domains = [f"co{i}.com" for i in range(150)]
    world.companies([lead(d) for d in domains])
    world.connections.update_settings(world.connection.id, {"apollo_push": {"batch_size": 5}})
    # Every answer arrives 0.1 s after Apollo applied the request: a kill lands between
    # Apollo's commit and ours most of the time.
    world.sandbox.knobs.latency_after_commit = 0.1
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": get_settings().database_url,
        "LEADBRIDGE_SECRET_KEY": os.environ["LEADBRIDGE_SECRET_KEY"],
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "leadbridge", "run", "apollo-push"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(world.accounts()) < 40 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    partial = len(world.accounts())
    output = child.stdout.read().decode() if child.stdout else ""
    assert 0 < partial < len(domains), f"the kill must land mid-run: {output}"
    with world.hub.session() as s:
        pending = s.scalars(select(RecordLink).where(RecordLink.status == "pending")).all()
    world.sandbox.knobs.latency_after_commit = 0.0

    # A re-run right after the crash takes the dead process's lease over (no lockout).
    report = asyncio.run(lead_push_task(LeadPush(world.hub, world.connections, world.connection)))

    assert report.status == "succeeded"
    assert_exactly_once(world, domains)
    assert pending, "the killed run left its intent behind"
    with world.hub.session() as s:
        statuses = dict(s.execute(select(SyncRun.id, SyncRun.status)).all())
    assert sorted(statuses.values()) == ["interrupted", "succeeded"]


def test_accounts_made_by_a_resent_bulk_create_are_reported_created_not_adopted(
    world: World,
) -> None:
    """The HTTP layer resends a bulk_create whose answer was lost after it landed: dedupe then
    hands back our own accounts as existing. They are ours: created, not adopted. Accounts that
    were in Apollo before stay adopted."""
    ours = [f"new{i}.com" for i in range(100)]
    before = [f"old{i}.com" for i in range(20)]
    clock = world.sandbox.clock
    world.sandbox.clock = lambda: clock() - 3600  # made an hour ago
    for domain in before:
        world.sandbox.add_account(name=domain, domain=domain)
    world.sandbox.clock = clock
    world.companies([lead(d) for d in [*ours, *before]])
    world.connections.update_settings(world.connection.id, {"apollo_push": {"batch_size": 10}})
    world.sandbox.knobs.error_rate_5xx = 0.4
    world.sandbox.knobs.fail_after_commit = True

    reports = run_until_settled(world)

    world.sandbox.knobs.error_rate_5xx = 0.0
    assert_exactly_once(world, [*ours, *before])
    created = sum(r.counts["created"] for r in reports)
    adopted = sum(r.counts["adopted"] for r in reports)
    assert (created, adopted) == (100, 20)
    with world.hub.session() as s:
        by_status = Counter(s.scalars(select(RecordLink.status)))
    assert by_status == {"created": 100, "adopted": 20}
