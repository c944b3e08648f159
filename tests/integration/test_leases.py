"""Leases after a crash: a holder that is a dead process of this host loses its lease at once
(no ten-minute lockout), its running runs become `interrupted`, and a live holder keeps it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from leadbridge.engine.status import hub_status
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import JobLease, SyncRun, utcnow
from leadbridge.jobs.lease import Lease, LeaseHeld, held


def dead_holder() -> str:
    """The holder id of a process that ran and was killed."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from leadbridge.hub.liveness import process_holder; import sys, time;"
            "print(process_holder(), flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    holder = child.stdout.readline().strip()
    child.kill()
    child.wait()
    return holder


def leave_behind(hub: Hub, name: str, process: str, connection_id: int | None = None) -> int:
    """What a killed run leaves: its lease for another 10 minutes and its run `running`."""
    with hub.session() as s:
        s.merge(
            JobLease(
                name=name, holder=f"{process}/dead", expires_at=utcnow() + timedelta(minutes=10)
            )
        )
        run = SyncRun(workspace_id=hub.workspace_id, job="apollo-push", holder=process)
        s.add(run)
        s.flush()
        return run.id


def run_status(hub: Hub, run_id: int) -> str:
    with hub.session() as s:
        return str(s.scalar(select(SyncRun.status).where(SyncRun.id == run_id)))


def test_a_dead_holder_of_this_host_loses_its_lease_at_once(any_hub: Hub) -> None:
    run_id = leave_behind(any_hub, "apollo-push:7", dead_holder())
    lease = Lease(any_hub, "apollo-push:7")
    assert lease.acquire()
    assert run_status(any_hub, run_id) == "interrupted"
    lease.release()


def test_a_live_holder_keeps_its_lease_until_its_heartbeat_stops(any_hub: Hub) -> None:
    first = Lease(any_hub, "crm-sync:3", ttl=timedelta(seconds=60))
    assert first.acquire()
    with pytest.raises(LeaseHeld, match="already running"):
        Lease(any_hub, "crm-sync:3").__enter__()
    # No beat for longer than the ttl: another holder may take it; the first then knows.
    with any_hub.session() as s:
        s.get(JobLease, "crm-sync:3").expires_at = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    second = Lease(any_hub, "crm-sync:3")
    assert second.acquire()
    assert not first.renew()


def test_status_shows_a_killed_run_as_interrupted_without_a_rerun(any_hub: Hub) -> None:
    run_id = leave_behind(any_hub, "apollo-push:9", dead_holder())
    runs = {r.id: r.status for r in hub_status(any_hub).runs}
    assert runs[run_id] == "interrupted"


def test_a_run_that_lost_its_lease_is_stopped(any_hub: Hub) -> None:
    async def long_run() -> str:
        async with held(any_hub, "crm-sync:4", busy="busy", ttl=timedelta(seconds=0.3)):
            # Someone takes the lease over, as after a missed heartbeat.
            with any_hub.session() as s:
                s.get(JobLease, "crm-sync:4").holder = "elsewhere:1:1/x"  # type: ignore[union-attr]
            await asyncio.sleep(5)
            return "ran to the end"

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(long_run())
