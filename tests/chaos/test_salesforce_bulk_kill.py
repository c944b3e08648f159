"""`kill -9` of `leadbridge push` at every step of a Bulk 2.0 job, and a re-run at once.

The sandbox holds the request of the chosen step (before it lands, or after it landed with its
answer withheld), the push process is killed there, the request is released (dropped, or let
through), and the next push starts while the job may still be running. Whatever the step: every
person ends as exactly one contact and every company as one account, all linked, the killed run
shows as interrupted, and no job is left open.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadbridge.connectors.errors import TransientError
from leadbridge.engine.status import hub_status
from leadbridge.engine.sync.push import push
from leadbridge.hub.tables import Person, RecordLink, RemoteJob, SyncRun
from leadbridge.settings import get_settings
from tests.e2e.crm_world import CrmWorld

PEOPLE, COMPANIES = 60, 12
POLICY = """\
version: 1
syncs:
  salesforce:
    connection: salesforce
    push:
      create_people_as: Contact
      bulk_threshold: 10
"""
JOB = r"/jobs/ingest/[^/]+/$"
# (method, path, when, skip, drop): which request the push dies on. skip=1 lets the Account
# job through and stops the Contact job; skip=0 stops the Account job.
STEPS = {
    "contact job create, never landed": ("POST", r"/jobs/ingest/$", "before", 1, True),
    "contact job created, answer lost": ("POST", r"/jobs/ingest/$", "after", 1, False),
    "contact upload, never landed": ("PUT", r"/batches/$", "before", 1, True),
    "contact uploaded, not closed": ("PUT", r"/batches/$", "after", 1, False),
    "contact job closed, answer lost": ("PATCH", JOB, "after", 1, False),
    "contact job complete, results unread": ("GET", r"/successfulResults/$", "before", 1, True),
    "contact results half read": ("GET", r"/unprocessedrecords/$", "before", 1, True),
    "account job closed, answer lost": ("PATCH", JOB, "after", 0, False),
    "account uploaded, not closed": ("PUT", r"/batches/$", "after", 0, False),
}


def prepare(crm: CrmWorld, tmp_path: Path) -> dict[str, str]:
    crm.activate()
    crm.pull(manual=True)
    for i in range(PEOPLE):
        crm.person(
            last_name=f"K{i}",
            email=f"k{i}@co{i % COMPANIES}.io",
            company={"name": f"Co {i % COMPANIES}", "domain": f"co{i % COMPANIES}.io"},
        )
    (tmp_path / "leadbridge.yaml").write_text(POLICY)
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


def wait_held(crm: CrmWorld, child: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not crm.sandbox.holds.waiting:
        if child.poll() is not None:
            output = child.stdout.read().decode() if child.stdout else ""
            raise AssertionError(f"the push ended before the held step: {output}")
        assert time.monotonic() < deadline, "the held step never came"
        time.sleep(0.02)


def assert_once_each(crm: CrmWorld) -> None:
    contacts = Counter(str(r["Email"]) for r in crm.rows("Contact"))
    want = Counter(f"k{i}@co{i % COMPANIES}.io" for i in range(PEOPLE))
    assert contacts == want, {e: n for e, n in contacts.items() if n != 1}
    accounts = Counter(r["Website"] for r in crm.rows("Account"))
    assert accounts == Counter(f"co{i}.io" for i in range(COMPANIES))
    ids = {r["Id"] for r in crm.rows("Contact")}
    with crm.hub.session() as s:
        assert len(list(s.scalars(select(Person)))) == PEOPLE  # nobody pulled back as new
        links = list(s.scalars(select(RecordLink).where(RecordLink.hub_object == "person")))
        assert sorted(str(link.remote_id) for link in links) == sorted(ids)
        assert all(link.remote_job_id is None for link in links)
        assert list(s.scalars(select(RemoteJob.state).where(RemoteJob.state == "open"))) == []


@pytest.mark.slow
@pytest.mark.parametrize("step", list(STEPS))
def test_kill_at_a_bulk_step_then_rerun_at_once(crm: CrmWorld, tmp_path: Path, step: str) -> None:
    env = prepare(crm, tmp_path)
    method, path, when, skip, drop = STEPS[step]
    crm.sandbox.knobs.bulk_rows_per_second = 40  # a job stays InProgress for a second or two
    crm.sandbox.holds.add(method, path, when, skip=skip)  # type: ignore[arg-type]

    first = leadbridge(env, tmp_path, "push")
    wait_held(crm, first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    crm.sandbox.holds.release(drop=drop)

    again = leadbridge(env, tmp_path, "push")  # at once: the job may still be running
    output = again.communicate(timeout=120)[0].decode()
    assert again.returncode == 0, output
    assert "Traceback" not in output

    crm.sandbox.knobs.bulk_rows_per_second = 0
    crm.push()  # what the re-run had to leave (a job still running) is finished now
    crm.pull()
    assert_once_each(crm)
    with crm.hub.session() as s:
        statuses = [r for r in s.scalars(select(SyncRun.status).where(SyncRun.job == "crm_push"))]
    assert statuses[0] == "interrupted" and "running" not in statuses


def test_a_job_that_outlives_the_run_is_read_by_the_next_one(crm: CrmWorld, tmp_path: Path) -> None:
    """The connector stops waiting (its 1,800 s, here 0.3 s): the run fails, the job goes on,
    and the next run reads its results instead of creating the people again."""
    prepare(crm, tmp_path)
    policy = crm.policy.model_copy(
        update={
            "push": crm.policy.push.model_copy(
                update={"create_people_as": "Contact", "bulk_threshold": 10}
            )
        }
    )
    crm.sandbox.knobs.bulk_rows_per_second = 30

    async def impatient() -> Any:
        ctx = crm.ctx(policy)
        ctx.connector.ingest.max_wait = 0.3
        try:
            return await push(ctx)
        finally:
            await ctx.connector.aclose()

    with pytest.raises(TransientError, match="still"):
        asyncio.run(impatient())
    with crm.hub.session() as s:
        assert "open" in list(s.scalars(select(RemoteJob.state)))
    (sync,) = hub_status(crm.hub).crm
    assert [records for _, _, records in sync.open_jobs] == [PEOPLE]  # shown, honestly
    report = crm.push(policy)  # waits for the job, reads it, then creates only what is left
    crm.sandbox.knobs.bulk_rows_per_second = 0
    crm.push(policy)
    crm.pull(policy)
    assert_once_each(crm)
    assert report.counts.get("job_created", 0) > 0
