"""`kill -9` of `leadbridge push` (the CLI, in its own process) while a create it sent has landed
in the CRM and its answer is still on the way, then a re-run at once: against Salesforce and
HubSpot alike, every hub person ends as exactly one CRM person and every company as one CRM
company, all linked, nobody pulled back into the hub as someone new, and the killed run shows
as interrupted.

The sandbox holds the chosen request after it landed (sandbox/holds.py), so the kill lands
between the CRM's commit and ours every time, not by luck of timing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadbridge.hub.tables import Person, RecordLink, SyncRun
from leadbridge.jobs.tasks import push_task
from leadbridge.settings import get_settings
from tests.e2e.crm_twins import Twin

PEOPLE, COMPANIES = 240, 24
# The write the push dies on, per CRM: (method, path, matching requests let through first).
STEPS: dict[str, dict[str, tuple[str, str, int]]] = {
    "salesforce": {
        "companies created, answer lost": ("POST", r"/composite/sobjects/?$", 0),
        "people created, answer lost": ("POST", r"/composite/sobjects/?$", 1),
    },
    "hubspot": {
        "companies created, answer lost": ("POST", r"/companies/batch/create$", 0),
        "people created, answer lost": ("POST", r"/contacts/batch/create$", 1),
    },
}


def email(i: int) -> str:
    return f"k{i}@co{i % COMPANIES}.io"


def prepare(twin: Twin, tmp_path: Path) -> dict[str, str]:
    twin.activate()
    twin.pull(manual=True)
    for i in range(PEOPLE):
        twin.person(
            last_name=f"K{i}",
            email=email(i),
            company={"name": f"Co {i % COMPANIES}", "domain": f"co{i % COMPANIES}.io"},
        )
    connection = twin.policy.connection
    (tmp_path / "leadbridge.yaml").write_text(
        f"version: 1\nsyncs:\n  {connection}:\n    connection: {connection}\n"
        "    push: {create_people_as: contact}\n"
    )
    return {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": get_settings().database_url,
        "LEADBRIDGE_SECRET_KEY": os.environ["LEADBRIDGE_SECRET_KEY"],
    }


def leadbridge(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "leadbridge", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_held(twin: Twin, child: subprocess.Popen[bytes], limit: float = 90) -> None:
    deadline = time.monotonic() + limit
    while not twin.sandbox.holds.waiting:
        if child.poll() is not None:
            output = child.stdout.read().decode() if child.stdout else ""
            raise AssertionError(f"the push ended before the held step: {output}")
        assert time.monotonic() < deadline, "the held step never came"
        time.sleep(0.02)


def later_push(twin: Twin, policy: Any) -> Any:
    """A push a minute on (past a read's lag behind the CRM's writes), as the schedule makes."""
    ctx = twin.ctx(policy)
    ctx.clock = lambda: datetime.now(UTC) + timedelta(minutes=1)

    async def go() -> Any:
        try:
            return await push_task(ctx)
        finally:
            await ctx.connector.aclose()

    return asyncio.run(go())


def assert_once_each(twin: Twin) -> None:
    held = Counter(str(p[twin.F["email"]]).lower() for p in twin.people())
    assert held == Counter(email(i) for i in range(PEOPLE)), {
        e: n for e, n in held.items() if n != 1
    }
    names = Counter(str(c[twin.F["name"]]) for c in twin.companies())
    assert names == Counter(f"Co {i}" for i in range(COMPANIES))
    ids = sorted(str(p["id"]) for p in twin.people())
    with twin.hub.session() as s:
        assert len(list(s.scalars(select(Person)))) == PEOPLE  # nobody pulled back as new
        links = s.scalars(
            select(RecordLink).where(
                RecordLink.hub_object == "person", RecordLink.remote_system == twin.system
            )
        )
        assert sorted(str(link.remote_id) for link in links) == ids


@pytest.mark.slow
@pytest.mark.parametrize("step", ["companies created, answer lost", "people created, answer lost"])
def test_kill_9_mid_push_then_rerun_leaves_no_duplicate(
    twin: Twin, tmp_path: Path, step: str
) -> None:
    env = prepare(twin, tmp_path)
    method, path, skip = STEPS[twin.system][step]
    lag = 2.0 if twin.system == "hubspot" else 0.0  # HubSpot's search shows a write late
    if lag:
        twin.sandbox.knobs.search_lag = lag
    twin.sandbox.holds.add(method, path, "after", skip=skip)

    first = leadbridge(env, tmp_path, "push")
    wait_held(twin, first)
    first.send_signal(signal.SIGKILL)  # the create landed; its answer never reaches the hub
    first.wait()
    twin.sandbox.holds.release()

    again = leadbridge(env, tmp_path, "push")  # at once, through the CLI again
    output = again.communicate(timeout=180)[0].decode()
    assert again.returncode == 0, output
    assert "Traceback" not in output
    # A create the re-run could not yet tell landed (a read lags behind the CRM's writes) was
    # held back, not sent twice: the next scheduled push sends it.
    policy = twin.policy.model_copy(deep=True)
    policy.push.create_people_as = "contact"
    time.sleep(lag)
    later_push(twin, policy)
    assert_once_each(twin)
    with twin.hub.session() as s:
        statuses = list(s.scalars(select(SyncRun.status).where(SyncRun.job == "crm_push")))
    assert statuses[0] == "interrupted" and "running" not in statuses
