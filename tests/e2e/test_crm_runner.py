"""The CRM sync under the embedded runner (what `leadbridge serve` does), against the Salesforce
sandbox over HTTPS: the setup window, the initial pull, the outbox, the pull interval, leases and
one failing connection among others. The runner is driven by `run_due(now)`, never by sleeping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadbridge.engine.systems.salesforce import connect_salesforce
from leadbridge.hub import schedules
from leadbridge.hub.tables import Person, SyncRun, utcnow
from leadbridge.jobs.crm import CrmRun, CrmSchedule
from leadbridge.jobs.lease import Lease, LeaseHeld
from leadbridge.jobs.runner import EmbeddedRunner
from leadbridge.jobs.tasks import pull_task
from leadbridge.policy.crm import CrmSync, PolicyFile, PullPolicy

from .crm_world import FAST, CrmWorld, connect


def runner(crm: CrmWorld, syncs: dict[str, CrmSync] | None = None) -> EmbeddedRunner:
    policy = PolicyFile(syncs=syncs or {"salesforce": crm.policy})
    schedule = CrmSchedule(crm.hub, crm.connections, policy, retry=FAST)
    return EmbeddedRunner(crm.connections, crm=schedule)


def crm_runs(done: list[Any]) -> list[tuple[str, str, str]]:
    return [(r.sync, r.job, r.status) for r in done if isinstance(r, CrmRun)]


def run_rows(crm: CrmWorld) -> list[SyncRun]:
    with crm.hub.session() as s:
        rows = list(s.scalars(select(SyncRun).order_by(SyncRun.id)))
        s.expunge_all()
        return rows


def hub_people(crm: CrmWorld) -> dict[str, Person]:
    with crm.hub.session() as s:
        people = list(s.scalars(select(Person)))
        s.expunge_all()
        return {str(p.email_key): p for p in people}


async def test_setup_window_holds_automatic_sync_then_one_tick_pulls_and_pushes(
    crm: CrmWorld,
) -> None:
    account = crm.org.create("Account", {"Name": "Acme", "Website": "acme.io"}).id
    contact = crm.org.create(
        "Contact", {"LastName": "Pre", "Email": "pre@acme.io", "AccountId": account}
    ).id
    pid = crm.person(
        last_name="Hub", email="hub@new.io", company={"name": "New", "domain": "new.io"}
    )
    r = runner(crm)
    now = utcnow()
    for later in (timedelta(0), timedelta(minutes=31), timedelta(hours=5)):  # window: 6 h
        assert await r.run_due(now + later) == []
    assert run_rows(crm) == []
    assert crm.rows("Lead") == [] and set(hub_people(crm)) == {"hub@new.io"}
    assert not crm.ctx().initial_pull_done()

    crm.activate()
    done = await r.run_due(now + timedelta(hours=5, seconds=5))
    assert crm_runs(done) == [
        ("salesforce", "initial_pull", "succeeded"),
        ("salesforce", "push", "succeeded"),
    ]
    assert crm.ctx().initial_pull_done()
    # The contact made in Salesforce before is a hub person now, linked to it.
    people = hub_people(crm)
    assert set(people) == {"pre@acme.io", "hub@new.io"}
    assert crm.link("person", people["pre@acme.io"].id) == {"Contact": contact}
    # The person made in the hub during the window reached Salesforce, as a lead of ours.
    (lead,) = crm.rows("Lead")
    assert (lead["Email"], lead["Company"]) == ("hub@new.io", "New")
    assert crm.link("person", pid) == {"Lead": lead["Id"]}
    assert {r.status for r in run_rows(crm)} == {"succeeded"}
    assert await r.run_due(now + timedelta(hours=5, seconds=10)) == []  # nothing due


async def test_the_setup_window_ends_by_itself_after_its_hours(crm: CrmWorld) -> None:
    crm.org.create("Lead", {"LastName": "Old", "Company": "Old Co", "Email": "old@old.io"})
    r = runner(crm)
    now = utcnow()
    assert await r.run_due(now + timedelta(hours=5, minutes=59)) == []
    done = await r.run_due(now + timedelta(hours=6, minutes=1))
    assert crm_runs(done) == [
        ("salesforce", "initial_pull", "succeeded"),
        ("salesforce", "push", "succeeded"),  # the full push after every pull: nothing to do
    ]
    assert "old@old.io" in hub_people(crm)


async def test_hub_edits_reach_salesforce_on_the_next_tick_in_one_batched_write(
    crm: CrmWorld,
) -> None:
    crm.activate()
    ids = [
        crm.person(last_name=f"P{i}", email=f"p{i}@edit.io", company={"name": "Edit"})
        for i in range(3)
    ]
    r = runner(crm)
    now = utcnow()
    await r.run_due(now)  # initial pull, then the three new people are created as leads
    leads = {row["Email"]: row["Id"] for row in crm.rows("Lead")}
    assert set(leads) == {"p0@edit.io", "p1@edit.io", "p2@edit.io"}
    before = len(run_rows(crm))

    for title in ("A", "B", "C"):  # quick edits of one person coalesce into its last value
        crm.edit_person(ids[0], title=title)
    crm.edit_person(ids[1], title="X")
    crm.edit_person(ids[2], phone="+1 555 0100")
    done = await r.run_due(now + timedelta(seconds=5))  # the next tick, seconds later

    assert crm_runs(done) == [("salesforce", "push", "succeeded")]
    (push_run,) = run_rows(crm)[before:]  # one run, no refresh pull: all three are linked
    assert push_run.job == "crm_push" and push_run.counts == {"leads_updated": 3}
    assert push_run.api_calls == 1  # one sObject Collections update for the three leads
    assert crm.org.row("Lead", leads["p0@edit.io"])["Title"] == "C"
    assert crm.org.row("Lead", leads["p1@edit.io"])["Title"] == "X"
    assert crm.org.row("Lead", leads["p2@edit.io"])["Phone"] == "+1 555 0100"
    assert await r.run_due(now + timedelta(seconds=10)) == []  # drained: nothing more to send
    assert len(run_rows(crm)) == before + 1


async def test_incremental_pull_runs_on_the_policy_interval_and_not_before(
    crm: CrmWorld,
) -> None:
    lead = crm.org.create(
        "Lead", {"LastName": "Slow", "Company": "Slow Co", "Email": "slow@slow.io"}
    ).id
    crm.activate()
    policy = crm.policy.model_copy(update={"pull": PullPolicy(interval_minutes=10)})
    r = runner(crm, {"salesforce": policy})
    now = utcnow()
    pulled_and_pushed = [("salesforce", "pull", "succeeded"), ("salesforce", "push", "succeeded")]
    assert crm_runs(await r.run_due(now)) == [
        ("salesforce", "initial_pull", "succeeded"),
        ("salesforce", "push", "succeeded"),
    ]
    assert hub_people(crm)["slow@slow.io"].lead_status == "Open - Not Contacted"

    assert crm.org.update("Lead", lead, {"Status": "Working - Contacted"}).success
    assert await r.run_due(now + timedelta(minutes=9, seconds=59)) == []  # not due yet
    assert hub_people(crm)["slow@slow.io"].lead_status == "Open - Not Contacted"
    done = await r.run_due(now + timedelta(minutes=10))
    assert crm_runs(done) == pulled_and_pushed
    assert hub_people(crm)["slow@slow.io"].lead_status == "Working - Contacted"
    assert [row.job for row in run_rows(crm)] == ["crm_pull", "crm_push", "crm_pull", "crm_push"]
    assert {row.api_calls for row in run_rows(crm) if row.job == "crm_push"} == {0}  # in sync
    assert await r.run_due(now + timedelta(minutes=19)) == []  # the next one at 20 min
    assert crm_runs(await r.run_due(now + timedelta(minutes=20))) == pulled_and_pushed


async def test_a_held_lease_skips_the_tick_and_a_manual_pull_is_told_why(crm: CrmWorld) -> None:
    crm.activate()
    pid = crm.person(last_name="Wait", email="wait@lease.io", company={"name": "Lease"})
    other = Lease(crm.hub, f"crm-sync:{crm.connections.get('salesforce').id}")
    assert other.acquire()  # e.g. another `leadbridge serve` on the same hub
    r = runner(crm)
    now = utcnow()
    done = await r.run_due(now)
    assert crm_runs(done) == [("salesforce", "initial_pull", "skipped")]
    with pytest.raises(LeaseHeld, match="Salesforce sync of connection 'salesforce' is already"):
        await pull_task(crm.ctx(), manual=True)
    assert run_rows(crm) == [] and crm.rows("Lead") == []

    other.release()
    done = await r.run_due(now + timedelta(seconds=5))  # the next tick goes ahead
    assert crm_runs(done) == [
        ("salesforce", "initial_pull", "succeeded"),
        ("salesforce", "push", "succeeded"),
    ]
    assert [row["Email"] for row in crm.rows("Lead")] == ["wait@lease.io"]
    assert crm.link("person", pid)
    assert Lease(crm.hub, other.name).current_holder() is None  # released after the tick


async def test_a_failing_connection_pauses_alone_and_the_others_keep_their_schedule(
    crm: CrmWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = crm.connections.get("salesforce").settings["ca_file"]
    for name in ("revoked", "crashy"):  # both open at once (no setup window)
        connect_salesforce(
            crm.hub,
            crm.connections,
            name=name,
            login_url=crm.url,
            token_body={
                "access_token": "00Dbad!not-a-session",
                "instance_url": crm.url,
                "id": f"{crm.url}/id/00D{name}/005x",
            },
            ca_file=ca,
            setup_window_hours=0,
        )
    import leadbridge.jobs.crm as jobs_crm

    real_pull = jobs_crm.pull_task

    async def crashing_pull(ctx: Any, **kw: Any) -> Any:
        if ctx.connection.name == "crashy":
            raise RuntimeError("boom")
        return await real_pull(ctx, **kw)

    monkeypatch.setattr(jobs_crm, "pull_task", crashing_pull)
    crm.activate()
    pid = crm.person(last_name="Good", email="good@ok.io", company={"name": "Ok"})
    r = runner(
        crm,
        {
            "revoked": CrmSync(connection="revoked"),
            "main": crm.policy,
            "crashy": CrmSync(connection="crashy"),
            "later": CrmSync(connection="not-connected-yet"),  # not scheduled, no error
        },
    )
    now = utcnow()
    done = await r.run_due(now)
    assert sorted(crm_runs(done)) == [
        ("crashy", "initial_pull", "failed"),
        ("main", "initial_pull", "succeeded"),
        ("main", "push", "succeeded"),
        ("revoked", "initial_pull", "failed"),
    ]
    assert [row["Email"] for row in crm.rows("Lead")] == ["good@ok.io"]
    revoked = crm.connections.get("revoked")
    assert revoked.health == "auth_failed"
    assert "paused until you reconnect" in str(revoked.health_detail)
    assert "not-a-session" not in str(revoked.health_detail)
    failed = [row for row in run_rows(crm) if row.connection_id == revoked.id]
    assert [(row.job, row.status) for row in failed] == [("crm_pull", "failed")]

    # Later ticks: the revoked connection waits for a reconnect (no retry every tick), the
    # crashed one backs off, and the main sync goes on: a hub edit still reaches Salesforce.
    crm.edit_person(pid, title="Still here")
    done = await r.run_due(now + timedelta(seconds=5))
    assert crm_runs(done) == [("main", "push", "succeeded")]
    assert crm.org.row("Lead", crm.link("person", pid)["Lead"])["Title"] == "Still here"
    assert [row.id for row in run_rows(crm) if row.connection_id == revoked.id] == [failed[0].id]
    done = await r.run_due(now + timedelta(minutes=1))
    assert crm_runs(done) == [("crashy", "initial_pull", "failed")]  # its retry, after backoff


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """`leadbridge …` in-process; serve's log handler is taken off again afterwards."""
    from typer.testing import CliRunner

    from leadbridge.cli.main import app

    monkeypatch.setenv("COLUMNS", "250")
    logger = logging.getLogger("leadbridge")
    handlers, level = list(logger.handlers), logger.level

    def lb(*args: str) -> Any:
        try:
            result = CliRunner().invoke(app, list(args), catch_exceptions=False)
        finally:
            logger.handlers[:] = handlers
            logger.setLevel(level)
        assert "Traceback" not in result.output
        return result

    yield lb


def test_serve_runs_the_policy_syncs_by_itself_and_a_bad_policy_is_one_line(
    crm: CrmWorld, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    ticks = 3

    class Server:  # instead of the web server: serves until the lead is in Salesforce
        def __init__(self, config: Any) -> None:
            pass

        async def serve(self) -> None:
            for _ in range(ticks * 2):
                if crm.rows("Lead"):
                    return
                await asyncio.sleep(0.05)

    monkeypatch.setattr(uvicorn, "Config", lambda *args, **kw: None)
    monkeypatch.setattr(uvicorn, "Server", Server)
    crm.activate()
    crm.person(last_name="Served", email="served@serve.io", company={"name": "Serve"})

    result = cli("serve", "--tick", "0.1")  # no leadbridge.yaml here
    assert result.exit_code == 0
    assert "no CRM sync is scheduled" in result.output
    assert crm.rows("Lead") == [] and run_rows(crm) == []

    ticks = 100  # at most 5 s
    Path("leadbridge.yaml").write_text(
        "version: 1\nsyncs:\n  salesforce:\n    pull:\n      interval_minutes: 45\n"
        "  later:\n    connection: elsewhere\n"
    )
    result = cli("serve", "--tick", "0.1")
    assert result.exit_code == 0, result.output
    assert "sync salesforce: connection 'salesforce', pull every 45 min" in result.output
    assert "sync later: no connection 'elsewhere' yet" in result.output
    assert [row["Email"] for row in crm.rows("Lead")] == ["served@serve.io"]
    assert crm.ctx().initial_pull_done()

    Path("bad.yaml").write_text("version: 1\nsyncs:\n  salesforce:\n    pul: {}\n")
    result = cli("serve", "--policy", "bad.yaml")
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line == "error: bad.yaml: line 4: syncs.salesforce.pul: unknown setting " + (
        "(did you mean 'pull'?)"
    )
    assert cli("serve", "--policy", "missing.yaml").exit_code == 1


def revoke_everything(crm: CrmWorld) -> None:
    """Salesforce forgets every session and refresh token (e.g. an admin revoked the app)."""
    for session in crm.sandbox.sessions.values():
        session.revoked = True
    crm.sandbox.oauth.refresh.clear()


def reconnect(crm: CrmWorld) -> None:
    ca = crm.connections.get("salesforce").settings["ca_file"]
    connect((crm.sandbox, crm.url, ca), crm.hub, crm.connections)


async def test_an_auth_failure_pauses_the_connection_until_it_is_reconnected(
    crm: CrmWorld,
) -> None:
    crm.activate()
    pid = crm.person(last_name="Auth", email="auth@fail.io", company={"name": "Fail"})
    r = runner(crm)
    now = utcnow()
    await r.run_due(now)
    (lead,) = (row["Id"] for row in crm.rows("Lead"))

    revoke_everything(crm)  # a reconnect while all is well: the runner takes the new tokens
    reconnect(crm)
    crm.edit_person(pid, title="After reconnect")
    done = await r.run_due(now + timedelta(seconds=5))
    assert crm_runs(done) == [("salesforce", "push", "succeeded")]
    assert crm.org.row("Lead", lead)["Title"] == "After reconnect"

    revoke_everything(crm)  # now without a reconnect: paused, with the reason for `status`
    crm.edit_person(pid, title="Queued")
    done = await r.run_due(now + timedelta(seconds=10))
    assert crm_runs(done) == [("salesforce", "push", "failed")]
    info = crm.connections.get("salesforce")
    assert info.health == "auth_failed"
    assert "automatic sync is paused until you reconnect" in str(info.health_detail)
    rows = len(run_rows(crm))
    assert run_rows(crm)[-1].status == "failed"
    for later in (timedelta(seconds=15), timedelta(minutes=40), timedelta(hours=2)):
        assert await r.run_due(now + later) == []  # no retry every tick
    assert len(run_rows(crm)) == rows
    assert crm.org.row("Lead", lead)["Title"] == "After reconnect"

    reconnect(crm)  # the edit made while paused goes out on the next tick
    done = await r.run_due(now + timedelta(hours=2, seconds=5))
    assert ("salesforce", "push", "succeeded") in crm_runs(done)
    assert crm.org.row("Lead", lead)["Title"] == "Queued"
    assert crm.connections.get("salesforce").health == "ok"


async def test_records_that_never_changed_since_connecting_are_pushed_by_the_schedule(
    crm: CrmWorld,
) -> None:
    # Hub people from before the connection (an import, say) have no outbox item: the full push
    # after each pull is what brings them over, and what repairs a push a crash lost.
    company = crm.company(name="Quiet Co", domain="quiet.io")
    with crm.hub.session() as s:
        s.add(
            Person(
                workspace_id=crm.hub.workspace_id,
                last_name="Quiet",
                email="quiet@quiet.io",
                email_key="quiet@quiet.io",
                email_status="verified",
                company_id=company,
            )
        )
    crm.activate()
    r = runner(crm)
    now = utcnow()
    await r.run_due(now)
    assert [row["Email"] for row in crm.rows("Lead")] == ["quiet@quiet.io"]
    (lead,) = crm.rows("Lead")
    crm.org.delete("Lead", lead["Id"])  # gone in Salesforce: the link stays, no re-create
    done = await r.run_due(now + timedelta(minutes=31))
    assert crm_runs(done) == [
        ("salesforce", "pull", "succeeded"),
        ("salesforce", "push", "succeeded"),
    ]
    assert crm.rows("Lead") == []


async def test_the_schedule_lives_in_the_hub_so_a_restart_runs_only_what_is_due(
    crm: CrmWorld,
) -> None:
    crm.activate()
    policy = crm.policy.model_copy(update={"pull": PullPolicy(interval_minutes=10)})
    first = runner(crm, {"salesforce": policy})
    now = utcnow()
    assert [job for _, job, _ in crm_runs(await first.run_due(now))] == ["initial_pull", "push"]
    assert first.crm is not None
    await first.crm.aclose()

    # A new process (a restart of `serve`, or another worker) reads the same schedule.
    again = runner(crm, {"salesforce": policy})
    assert await again.run_due(now + timedelta(minutes=1)) == []
    assert [job for _, job, _ in crm_runs(await again.run_due(now + timedelta(minutes=10)))] == [
        "pull",
        "push",
    ]
    slots = {s.name: s for s in schedules.all_slots(crm.hub)}
    slot = slots["crm-sync:salesforce"]
    assert slot.next_due_at == now + timedelta(minutes=20)
    assert slot.last_status == "succeeded" and slot.failures == 0
    assert again.crm is not None
    await again.crm.aclose()


async def test_a_back_off_survives_a_restart(crm: CrmWorld) -> None:
    crm.activate()
    r = runner(crm)
    now = utcnow()
    slot = schedules.load(crm.hub, "crm-sync:salesforce", "crm-sync")
    slot.failures, slot.retry_at = 3, now + timedelta(minutes=4)
    schedules.save(crm.hub, slot)
    assert await r.run_due(now + timedelta(minutes=3)) == []  # still backing off, after a restart
    assert crm_runs(await r.run_due(now + timedelta(minutes=4)))[0][1] == "initial_pull"
    assert schedules.load(crm.hub, "crm-sync:salesforce", "crm-sync").failures == 0
