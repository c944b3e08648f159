"""`leadbridge worker` on PostgreSQL: three worker processes (procrastinate) share one hub and
the Salesforce sandbox.

- Two syncs of one connection, dispatched every tick to three workers, never run at once: the
  hub's runs of the connection (start and end times) never intersect, and the connection's
  lease (the engine's safety net) never had to turn one away — procrastinate's lock kept them
  apart.
- `kill -9` of the worker whose push has a create landed in the CRM (its answer held by the
  sandbox), a replacement worker started: the stalled job is queued again, the push finishes,
  with every hub person exactly once in Salesforce and the killed run shown as interrupted.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import SyncRun
from leadbridge.settings import get_settings
from leadbridge.web.state import WebState
from leadbridge.web.status import scheduler_json
from tests.chaos.test_crm_kill import PEOPLE, assert_once_each, email
from tests.chaos.test_crm_kill import prepare as prepare_people
from tests.e2e.conftest import World, lead
from tests.e2e.crm_twins import SalesforceTwin, salesforce_world

WORKER_OPTIONS = ("--concurrency", "2", "--heartbeat", "1", "--stalled-after", "4")
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.usefixtures("postgres_env")]


@pytest.fixture
def sf(hub: Hub, connections: Connections) -> Iterator[SalesforceTwin]:
    yield from salesforce_world(hub, connections)


class Workers:
    """Worker processes started with `leadbridge worker`, their output kept per process."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, n: int = 1) -> None:
        for _ in range(n):
            log = (self.cwd / f"worker-{len(self.procs)}.log").open("wb")
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "leadbridge", "worker", *WORKER_OPTIONS],
                    env=self.env,
                    cwd=self.cwd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.cwd.glob("worker-*.log"))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": get_settings().database_url,
        "LEADBRIDGE_SECRET_KEY": os.environ["LEADBRIDGE_SECRET_KEY"],
    }
    group = Workers(env, tmp_path)
    yield group
    group.stop()


def runs(hub: Hub) -> list[SyncRun]:
    with hub.session() as s:
        rows = list(s.scalars(select(SyncRun).order_by(SyncRun.id)))
        s.expunge_all()
        return rows


def wait_for(what: str, check: object, workers: Workers, limit: float = 150) -> None:
    deadline = time.monotonic() + limit
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; workers said:\n{workers.output()}")
        time.sleep(0.25)


def test_two_syncs_of_one_connection_never_run_at_once_on_three_workers(
    sf: SalesforceTwin, tmp_path: Path, workers: Workers
) -> None:
    prepare_people(sf, tmp_path)
    connection = sf.policy.connection
    # Two syncs of the same connection: each tick queues a job for each, and three workers
    # would happily take both at once but for the connection's lock.
    (tmp_path / "leadbridge.yaml").write_text(
        "version: 1\nsyncs:\n"
        + "".join(
            f"  {name}:\n    connection: {connection}\n    push: {{create_people_as: contact}}\n"
            for name in ("first", "second")
        )
    )
    sf.sandbox.knobs.latency = 0.05  # runs long enough that an overlap would show
    before = len(runs(sf.hub))
    workers.start(3)
    edits = iter(range(10_000))

    def enough_runs() -> bool:
        # Hub edits keep coming (each tick of either sync may find some to push).
        sf.edit_person(1 + next(edits) % PEOPLE, title=f"Buyer {time.monotonic():.0f}")
        return len([r for r in runs(sf.hub)[before:] if r.finished_at]) >= 10

    wait_for("ten runs of the connection", enough_runs, workers)
    # `serve --no-jobs` reports the workers' heartbeats as its scheduler (/healthz, /metrics).
    web = WebState(sf.connections, workers=True)
    assert scheduler_json(web) == {"running": True, "alive": True, "workers": 3, "last_tick": None}
    workers.stop()
    assert scheduler_json(web)["workers"] == 0  # stopped workers leave the queue's table

    mine = [
        r
        for r in runs(sf.hub)[before:]
        if r.connection_id == sf.connections.get(sf.policy.connection).id
    ]
    assert {r.status for r in mine} <= {"succeeded", "partial"}, [
        (r.job, r.status, r.message) for r in mine
    ]
    spans = sorted((r.started_at, r.finished_at) for r in mine)
    assert all(end is not None for _, end in spans)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end is not None and end <= start, f"two runs of one connection overlapped: {spans}"
    output = workers.output()
    assert "is already running" not in output, output  # the lease never had to say no
    assert len({p.pid for p in workers.procs}) == 3
    assert_once_each(sf)


def test_kill_9_of_the_worker_mid_push_and_a_new_worker_finish_it_with_no_duplicate(
    sf: SalesforceTwin, tmp_path: Path, workers: Workers
) -> None:
    prepare_people(sf, tmp_path)
    # The people's create lands in Salesforce; its answer is held until the worker is dead.
    sf.sandbox.holds.add("POST", r"/composite/sobjects/?$", "after", skip=1)
    workers.start(3)
    wait_for("the held create", lambda: sf.sandbox.holds.waiting, workers)

    running = [r for r in runs(sf.hub) if r.status == "running" and r.job == "crm_push"]
    assert len(running) == 1, [(r.job, r.status) for r in runs(sf.hub)]
    match = re.match(r"[^:]+:(\d+):", running[0].holder or "")
    assert match, running[0].holder
    pid = int(match.group(1))
    victim = next(p for p in workers.procs if p.pid == pid)  # one of our three workers
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    sf.sandbox.holds.release()
    workers.start(1)  # the restart: a replacement worker

    def pushed() -> bool:
        return len(sf.people()) >= PEOPLE and all(
            r.status != "running" for r in runs(sf.hub) if r.job == "crm_push"
        )

    wait_for("the push to finish on the other workers", pushed, workers)
    # One more tick past the CRM's read lag, then everything is there exactly once.
    time.sleep(6)
    workers.stop()
    assert_once_each(sf)
    statuses = [r.status for r in runs(sf.hub) if r.job == "crm_push"]
    assert "interrupted" in statuses and "running" not in statuses, statuses
    # The reaper put the dead worker's job back (or ended it for the one already waiting).
    assert "of a stalled worker" in workers.output()
    assert email(0)  # the same people as the single-process kill test


def test_the_lead_push_runs_on_a_worker_once_per_interval(world: World, workers: Workers) -> None:
    world.companies([lead("acme.com"), lead("globex.com")])
    workers.start(1)

    def pushed() -> bool:
        return len(world.accounts()) == 2 and any(
            r.job == "apollo-push" and r.status == "succeeded" for r in runs(world.hub)
        )

    wait_for("the lead push on a worker", pushed, workers, limit=90)
    time.sleep(12)  # more dispatch ticks: the push is not due again for 15 minutes
    workers.stop()
    assert sorted(a["domain"] for a in world.accounts()) == ["acme.com", "globex.com"]
    assert [r.job for r in runs(world.hub)].count("apollo-push") == 1
