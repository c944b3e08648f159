"""Activity push on both CRMs (the Salesforce sandbox over HTTPS, the HubSpot sandbox over
HTTP): one activity of each kind lands once on the right contact and company with its templated
title; a sequence flood with replies_only writes only the replies; a run that dies after the
CRM's answer and before our commit, run again, writes no duplicate."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import select

from leadbridge.engine.activities import push as push_module
from leadbridge.engine.activities.push import ActivityReport, plan, push_activities
from leadbridge.engine.sync.context import SyncRefused
from leadbridge.hub.activities import record_activity
from leadbridge.hub.tables import RecordLink, SyncRun
from leadbridge.policy.activities import ActivityPush
from leadbridge.policy.crm import CrmSync

from .crm_twins import Twin
from .test_crm_both import as_contacts, ready

WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HS_KINDS = ("emails", "calls", "meetings", "notes", "tasks")


def add_activity_key(twin: Twin) -> None:
    """The key field an admin adds once (the push refuses to run without it); on HubSpot also
    the property sequence_subtype writes."""
    if twin.system == "salesforce":
        for sobject in ("Task", "Event"):
            twin.org.add_custom_field(
                sobject, "Leadbridge_Activity_Id__c", length=64, external_id=True, unique=True
            )
        return
    token = twin.hs.issue_private_app_token()
    for kind in HS_KINDS:
        answer = httpx.post(
            f"{twin.url}/crm/v3/properties/{kind}",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "name": "leadbridge_activity_id",
                "label": "leadbridge activity id",
                "type": "string",
                "fieldType": "text",
                "groupName": f"{kind[:-1]}information",
                "hasUniqueValue": True,
            },
        )
        assert answer.status_code == 201, answer.text
    answer = httpx.post(
        f"{twin.url}/crm/v3/properties/emails",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": "leadbridge_activity_type", "label": "leadbridge activity type",
              "type": "string", "fieldType": "text", "groupName": "emailinformation"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text


def policy_of(twin: Twin, **activities: Any) -> CrmSync:
    policy = as_contacts(twin)
    settings = {
        "enabled": True,
        "emails": {"mailbox_domains": ["team.example"], "title_template": "Email: {subject}"},
        "calls": {"title_template": "Call {outcome} ({duration})"},
        "tasks": {"title_template": "Task: {subject}"},
    }
    for key, value in activities.items():
        settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
    policy.activities = ActivityPush.model_validate(settings)
    return policy


def run(twin: Twin, policy: CrmSync) -> ActivityReport:
    async def go() -> ActivityReport:
        ctx = twin.ctx(policy)
        try:
            return await push_activities(ctx)
        finally:
            await ctx.connector.aclose()

    return asyncio.run(go())


def linked_person(twin: Twin) -> tuple[int, int, str, str]:
    """A contact and its company in the CRM, linked to a hub person: (person id, company id,
    remote contact id, remote company id)."""
    company = twin.remote_company("Acme", "acme.example")
    contact = twin.remote_person("ann@acme.example", "Ann", company)
    pid = twin.person(first_name="Ann", last_name="Ann", email="ann@acme.example")
    ready(twin)
    twin.push()
    _, rid = twin.person_link(pid)
    assert rid == contact
    company_id = twin.get_person(pid).company_id
    assert company_id is not None
    return pid, company_id, contact, company


def add(twin: Twin, **values: Any) -> int:
    base = {"source": "import", "occurred_at": WHEN}
    with twin.hub.session() as s:
        row, _ = record_activity(s, twin.hub.workspace_id, {**base, **values})
        s.flush()
        return row.id


def one_of_each(twin: Twin, pid: int, cid: int) -> None:
    add(twin, kind="email", source_id="e1", person_id=pid, company_id=cid, subject="Hello Ann",
        direction="outgoing", sent_from_hub=True, from_email="rep@team.example",
        to_emails=["ann@acme.example"], body_preview="Hi Ann")  # fmt: skip
    add(twin, kind="call", source_id="c1", person_id=pid, company_id=cid,
        call_outcome="Connected", call_duration_seconds=95,
        recording_url="https://rec.example/1")  # fmt: skip
    add(twin, kind="meeting", source_id="m1", person_id=pid, company_id=cid, subject="Demo",
        meeting_start=WHEN, meeting_end=WHEN + timedelta(hours=1), location="Zoom",
        attendees=["ann@acme.example"])  # fmt: skip
    add(twin, kind="note", source_id="n1", person_id=pid, company_id=cid, subject="Met at expo",
        body_preview="Keen on the API")  # fmt: skip
    add(twin, kind="task", source_id="t1", person_id=pid, company_id=cid, subject="Send quote",
        due_at=WHEN + timedelta(days=3), task_status="open")  # fmt: skip
    add(twin, kind="summary", source_id="s1", person_id=pid, company_id=cid,
        subject="Call recap")  # fmt: skip


def crm_activities(twin: Twin) -> list[dict[str, Any]]:
    """Every activity record the CRM holds, as {title, contact, company, kind, raw}."""
    out = []
    if twin.system == "salesforce":
        for sobject in ("Task", "Event"):
            for r in twin.rows(sobject):
                out.append({"title": r.get("Subject"), "contact": r.get("WhoId"),
                            "company": r.get("WhatId"), "kind": r.get("TaskSubtype") or sobject,
                            "raw": r})  # fmt: skip
        return out
    titles = {"emails": "hs_email_subject", "calls": "hs_call_title",
              "meetings": "hs_meeting_title", "notes": "hs_note_body",
              "tasks": "hs_task_subject"}  # fmt: skip
    for kind in HS_KINDS:
        for r in twin.hs.objects(kind):
            contacts = [rid for rid, _ in twin.hs.associations(kind, r["id"], "contacts")]
            companies = [rid for rid, _ in twin.hs.associations(kind, r["id"], "companies")]
            props = r["properties"]
            out.append({"title": (props.get(titles[kind]) or "").split("\n")[0],
                        "contact": contacts[0] if len(contacts) == 1 else contacts,
                        "company": companies[0] if len(companies) == 1 else companies,
                        "kind": kind, "raw": props})  # fmt: skip
    return out


def test_one_activity_of_each_kind_lands_once_on_its_contact_and_company(twin: Twin) -> None:
    pid, cid, contact, company = linked_person(twin)
    policy = policy_of(twin)
    one_of_each(twin, pid, cid)

    with pytest.raises(SyncRefused, match=r"Leadbridge_Activity_Id__c|leadbridge_activity_id"):
        run(twin, policy)  # the key field is missing: refused, nothing written
    assert crm_activities(twin) == []
    add_activity_key(twin)

    first = run(twin, policy)
    assert first.counts == {
        "emails_created": 1, "calls_created": 1, "meetings_created": 1, "notes_created": 1,
        "tasks_created": 1, "skipped": 1,
    }  # fmt: skip
    assert any("deal" in reason for reason in first.skipped)  # no deal: the summary waits
    landed = crm_activities(twin)
    assert sorted(a["title"] for a in landed) == [
        "Call Connected (1:35)", "Demo", "Email: Hello Ann", "Met at expo", "Task: Send quote",
    ]  # fmt: skip
    for a in landed:
        assert (a["contact"], a["company"]) == (contact, company), a
    kinds = sorted(a["kind"] for a in landed)
    if twin.system == "salesforce":
        assert kinds == ["Call", "Email", "Event", "Task", "Task"]
        call = next(a["raw"] for a in landed if a["kind"] == "Call")
        assert call["CallDurationInSeconds"] == 95 and "Connected" in call["Description"]
    else:
        assert kinds == sorted(HS_KINDS)
        call = next(a["raw"] for a in landed if a["kind"] == "calls")
        assert call["hs_call_duration"] == "95000"

    again = run(twin, policy)  # nothing new: no call writes, no second record
    assert again.counts == {"skipped": 1}
    assert len(crm_activities(twin)) == 5
    with twin.hub.session() as s:
        runs = list(s.scalars(select(SyncRun).where(SyncRun.job == "activity_push")))
        assert [r.status for r in runs] == ["succeeded", "succeeded"]
        assert runs[0].api_calls >= 2 and runs[1].api_calls <= runs[0].api_calls


def test_a_sequence_flood_with_replies_only_writes_only_the_replies(twin: Twin) -> None:
    pid, cid, contact, _ = linked_person(twin)
    add_activity_key(twin)
    with twin.hub.session() as s:
        for n in range(500):
            record_activity(s, twin.hub.workspace_id, {
                "kind": "email", "source": "apollo", "source_id": f"seq-{n}", "person_id": pid,
                "company_id": cid, "occurred_at": WHEN + timedelta(minutes=n),
                "subject": f"Step {n % 3 + 1}", "direction": "outgoing",
                "sent_from_sequence": True, "from_email": "rep@team.example",
                "to_emails": ["ann@acme.example"], "thread_id": f"thread-{n}"})  # fmt: skip
        for n in range(0, 500, 25):  # 20 replies into the sequence's threads
            record_activity(s, twin.hub.workspace_id, {
                "kind": "email", "source": "apollo", "source_id": f"reply-{n}",
                "person_id": pid, "company_id": cid,
                "occurred_at": WHEN + timedelta(minutes=n, seconds=30),
                "subject": f"Re: Step {n % 3 + 1}", "direction": "incoming",
                "from_email": "ann@acme.example", "to_emails": ["rep@team.example"],
                "thread_id": f"thread-{n}"})  # fmt: skip
    policy = policy_of(twin, emails={"sequence": "replies_only"})
    report = run(twin, policy)
    assert report.counts == {"emails_created": 20, "skipped": 500}
    assert report.skipped == {"a sequence send (activities.emails.sequence: replies_only)": 500}
    landed = crm_activities(twin)
    assert len(landed) == 20
    assert all(a["title"].startswith("Email: Re: Step") for a in landed)
    assert {a["contact"] for a in landed} == {contact}

    # The other fix: every send, as its own subtype a CRM view filters out.
    subtype = policy_of(twin, emails={"sequence_subtype": True})
    report = run(twin, subtype)
    assert report.counts == {"emails_created": 500}
    sends = [a["raw"] for a in crm_activities(twin) if "Re:" not in a["title"]]
    assert len(sends) == 500
    if twin.system == "salesforce":
        assert {r["TaskSubtype"] for r in sends} == {"ListEmail"}
    else:
        assert {r.get("leadbridge_activity_type") for r in sends} == {"sequence_email"}


def test_a_run_that_dies_after_the_crm_answered_writes_no_duplicate_when_run_again(
    twin: Twin, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid, cid, _, _ = linked_person(twin)
    add_activity_key(twin)
    one_of_each(twin, pid, cid)
    policy = policy_of(twin)
    real = push_module.utcnow

    def killed() -> datetime:  # the CRM answered; the process dies before recording it
        raise SystemExit("killed")

    monkeypatch.setattr(push_module, "utcnow", killed)
    with pytest.raises(SystemExit):
        run(twin, policy)
    monkeypatch.setattr(push_module, "utcnow", real)
    landed = len(crm_activities(twin))  # the first send landed, but the hub never heard
    assert landed >= 1
    with twin.hub.session() as s:
        intents = list(s.scalars(select(RecordLink).where(RecordLink.hub_object == "activity")))
        assert len(intents) == landed and {i.status for i in intents} == {"pending"}
        assert {i.remote_id for i in intents} == {None}

    again = run(twin, policy)
    assert again.counts.get("failed") is None
    assert sum(v for k, v in again.counts.items() if k.endswith("_created")) == 5
    landed = crm_activities(twin)
    assert len(landed) == 5  # the same five records, handed back by their key
    with twin.hub.session() as s:
        links = list(s.scalars(select(RecordLink).where(RecordLink.hub_object == "activity")))
        assert {link.status for link in links} == {"created"}
        assert len({link.remote_id for link in links}) == 5
    assert run(twin, policy).counts == {"skipped": 1}


def test_plan_says_why_and_a_refused_activity_goes_to_the_error_log(twin: Twin) -> None:
    pid, _, contact, _ = linked_person(twin)
    add_activity_key(twin)
    policy = policy_of(
        twin, emails={"exclude": [{"to": {"domains": ["acme.example"]}, "subject": ["board"]}]}
    )
    board = add(twin, kind="email", source_id="b1", person_id=pid, subject="Board pack",
                direction="outgoing", sent_from_hub=True, from_email="rep@team.example",
                to_emails=["ann@acme.example"])  # fmt: skip
    note = add(twin, kind="note", source_id="n1", person_id=pid, subject="Long " + "x" * 300)
    decisions = {p.activity_id: p.decision for p in plan(twin.ctx(policy))}
    assert decisions[board].push is False and "rule 1 of activities.emails.exclude" in (
        decisions[board].reason
    )
    assert decisions[note].push is True

    # The contact is gone from the CRM before a pull tells the hub: the CRM refuses the note.
    if twin.system == "salesforce":
        twin.org.hard_delete("Contact", contact)
    else:
        twin.hs.console.archive("contacts", contact)
    report = run(twin, policy)
    assert report.counts == {"skipped": 1, "failed": 1}
    (entry,) = twin.errors()
    assert (entry.job, entry.hub_object, entry.hub_id) == ("activity_push", "activity", note)
    assert entry.error_class == "permanent"
    # Held, not resent blindly: the next run leaves it alone until `errors retry`.
    assert run(twin, policy).counts == {"skipped": 1}
    assert crm_activities(twin) == []


ACTIVITY_POLICY = """\
version: 1
syncs:
  salesforce:
    push:
      create_people_as: contact
    activities:
      enabled: true
      emails:
        mailbox_domains: [team.example]
        sequence: replies_only
"""


def test_the_activity_push_from_the_command_line(crm: Any, tmp_path: Path) -> None:
    """import activities, plan, push, explain and status, as a person types them."""
    from .cli_runner import lb

    account = crm.org.create("Account", {"Name": "Acme", "Website": "acme.example"}).id
    crm.org.create("Contact", {"LastName": "Ann", "Email": "ann@acme.example",
                               "AccountId": account})  # fmt: skip
    (tmp_path / "leadbridge.yaml").write_text(ACTIVITY_POLICY)
    (tmp_path / "people.csv").write_text("email,last_name\nann@acme.example,Ann\n")
    assert lb("import", "people", "people.csv").exit_code == 0
    assert lb("activate").exit_code == 0
    pulled = lb("pull")
    assert pulled.exit_code == 0, pulled.output
    (tmp_path / "acts.csv").write_text(
        "kind,id,email,date,subject,direction,sequence,from,to\n"
        "email,s1,ann@acme.example,2026-11-02,Step 1,outgoing,yes,rep@team.example,"
        "ann@acme.example\n"
        "call,c1,ann@acme.example,2026-11-02,,,,,\n"
    )
    result = lb("import", "activities", "acts.csv")
    assert "activities: 2 created" in result.output, result.output

    planned = lb("plan", "salesforce").output
    assert "activities: push 1 call" in planned, planned
    assert "skip 1: a sequence send (activities.emails.sequence: replies_only)" in planned

    check = lb("policy", "check").output
    assert "activities: Salesforce Task has no Leadbridge_Activity_Id__c field" in check, check
    refused = lb("push")  # the key field is missing: one clear line, nothing written
    assert refused.exit_code == 1 and "Leadbridge_Activity_Id__c" in refused.output
    assert crm.rows("Task") == []
    add_activity_key(cast(Twin, crm))

    pushed = lb("push").output
    assert re.search(r"activity push run \d+: calls_created 1, skipped 1", pushed), pushed
    (task,) = crm.rows("Task")
    assert task["Subject"] == "Call"  # "Call: {outcome}" with no outcome: no dangling colon
    assert "in Salesforce as Task " + task["Id"] in lb("explain", "activity:2").output
    assert "a sequence send" in lb("explain", "activity:1").output
    assert "no activity 99" in lb("explain", "activity:99").output
    status = lb("status").output
    assert "activities: 1 in salesforce, 0 failing, 1 not pushed" in status, status


def test_a_conversation_summary_lands_as_a_note_on_the_deal(twin: Twin) -> None:
    """A hub deal linked to a deal made in the CRM (as a deal pull links it)."""
    pid, cid, contact, company = linked_person(twin)
    add_activity_key(twin)
    if twin.system == "salesforce":
        deal = str(twin.org.create("Opportunity", {"Name": "Acme renewal", "StageName":
                   "Prospecting", "CloseDate": "2026-12-31", "AccountId": company}).id)  # fmt: skip
        stream = "Opportunity"
    else:
        deal = str(
            twin.hs.console.create(
                "deals", {"dealname": "Acme renewal", "dealstage": "appointmentscheduled"}
            ).id
        )
        stream = "deals"
    from leadbridge.hub.tables import Deal

    with twin.hub.session() as s:  # the hub deal, linked as a deal pull links it
        hub_deal = Deal(workspace_id=twin.hub.workspace_id, name="Acme renewal", company_id=cid)
        s.add(hub_deal)
        s.flush()
        deal_id = hub_deal.id
        twin.ctx().links.add(s, "deal", deal_id, stream, deal, status="adopted")
    add(twin, kind="summary", source_id="s1", person_id=pid, company_id=cid, deal_id=deal_id,
        subject="Renewal call recap", body_preview="Budget approved")  # fmt: skip
    assert run(twin, policy_of(twin)).counts == {"summaries_created": 1}
    (note,) = crm_activities(twin)
    assert note["title"] == "Renewal call recap" and note["contact"] == contact
    if twin.system == "salesforce":
        assert note["company"] == deal  # WhatId: the opportunity
        assert note["raw"]["TaskSubtype"] == "Task" and note["raw"]["Status"] == "Completed"
    else:
        assert note["kind"] == "notes" and note["company"] == company
        deals = [rid for rid, _ in twin.hs.associations("notes", note["raw"]["hs_object_id"],
                                                         "deals")]  # fmt: skip
        assert deals == [deal]


async def test_serve_pushes_activities_on_its_tick_and_a_missing_key_field_fails_nothing(
    crm: Any,
) -> None:
    from leadbridge.hub.tables import utcnow
    from leadbridge.jobs.crm import CrmRun, CrmSchedule
    from leadbridge.jobs.runner import EmbeddedRunner
    from leadbridge.policy.crm import PolicyFile

    from .crm_world import FAST

    twin = cast(Twin, crm)
    account = crm.org.create("Account", {"Name": "Acme", "Website": "acme.example"}).id
    crm.org.create("Contact", {"LastName": "Ann", "Email": "ann@acme.example",
                               "AccountId": account})  # fmt: skip
    pid = crm.person(last_name="Ann", email="ann@acme.example")
    crm.activate()
    add(twin, kind="call", source_id="c1", person_id=pid, call_outcome="Connected")
    policy = PolicyFile(syncs={"salesforce": policy_of(twin)})
    runner = EmbeddedRunner(
        crm.connections, crm=CrmSchedule(crm.hub, crm.connections, policy, retry=FAST)
    )
    now = utcnow()
    done = [(r.job, r.status) for r in await runner.run_due(now) if isinstance(r, CrmRun)]
    assert done == [("initial_pull", "succeeded"), ("push", "succeeded")]  # refused: said only
    assert crm.rows("Task") == []

    add_activity_key(twin)
    crm.edit_person(pid, title="CTO")  # a change to drain: the tick runs its pushes
    done = [(r.job, r.status) for r in await runner.run_due(now + timedelta(seconds=5))
            if isinstance(r, CrmRun)]  # fmt: skip
    assert done == [("push", "succeeded"), ("push", "succeeded")]  # the drain, the activities
    (task,) = crm.rows("Task")
    assert task["Subject"] == "Call Connected"  # no duration: the empty "()" is dropped
