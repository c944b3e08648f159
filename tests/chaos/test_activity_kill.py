"""`kill -9` of `leadbridge push` (the CLI, in its own process) while an activity batch it sent
has landed in the CRM and its answer is still on the way, then a re-run at once: against
Salesforce and HubSpot alike, every activity is in the CRM exactly once and linked, and the
killed run shows as interrupted.

The sandbox holds the second activity batch after it landed (sandbox/holds.py), so the kill
lands between the CRM's commit and ours every time, not by luck of timing.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from leadbridge.engine.status import hub_status
from leadbridge.hub.activities import record_activity
from leadbridge.hub.tables import RecordLink, SyncRun
from leadbridge.settings import get_settings
from tests.chaos.test_crm_kill import leadbridge, wait_held
from tests.e2e.crm_twins import Twin
from tests.e2e.test_activities import WHEN, add_activity_key, crm_activities, linked_person

EMAILS = 300  # two Salesforce collections, three HubSpot batches
HELD = {"salesforce": r"/composite/sobjects/?$", "hubspot": r"/emails/batch/create$"}


@pytest.mark.slow
def test_kill_9_mid_activity_push_then_rerun_writes_no_duplicate(
    twin: Twin, tmp_path: Path
) -> None:
    pid, cid, _, _ = linked_person(twin)
    add_activity_key(twin)
    with twin.hub.session() as s:
        for n in range(EMAILS):
            record_activity(s, twin.hub.workspace_id, {
                "kind": "email", "source": "apollo", "source_id": f"e{n}", "person_id": pid,
                "company_id": cid, "occurred_at": WHEN, "subject": f"Mail {n}",
                "direction": "outgoing", "sent_from_hub": True,
                "from_email": "rep@team.example", "to_emails": ["ann@acme.example"]})  # fmt: skip
    connection = twin.policy.connection
    (tmp_path / "leadbridge.yaml").write_text(
        f"version: 1\nsyncs:\n  {connection}:\n    connection: {connection}\n"
        "    push: {create_people_as: contact}\n    activities: {enabled: true}\n"
    )
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": get_settings().database_url,
        "LEADBRIDGE_SECRET_KEY": os.environ["LEADBRIDGE_SECRET_KEY"],
    }
    twin.sandbox.holds.add("POST", HELD[twin.system], "after", skip=1)

    first = leadbridge(env, tmp_path, "push")
    wait_held(twin, first)
    first.send_signal(signal.SIGKILL)  # the batch landed; its answer never reaches the hub
    first.wait()
    twin.sandbox.holds.release()
    # Salesforce: both collections landed (the second held after landing); HubSpot: two of
    # its three batches. The hub recorded none of them.
    assert len(crm_activities(twin)) == {"salesforce": EMAILS, "hubspot": 200}[twin.system]
    with twin.hub.session() as s:
        recorded = s.scalars(
            select(RecordLink).where(
                RecordLink.hub_object == "activity", RecordLink.remote_id.is_not(None)
            )
        )
        assert list(recorded) == []  # the hub never heard of them

    again = leadbridge(env, tmp_path, "push")  # at once, through the CLI again
    output = again.communicate(timeout=180)[0].decode()
    assert again.returncode == 0, output
    assert "Traceback" not in output
    assert f"emails_created {EMAILS}" in output, output

    titles = Counter(a["title"] for a in crm_activities(twin))
    assert titles == Counter(f"Email: Mail {n}" for n in range(EMAILS))  # each once
    with twin.hub.session() as s:
        links = list(s.scalars(select(RecordLink).where(RecordLink.hub_object == "activity")))
        assert len(links) == EMAILS and {link.status for link in links} == {"created"}
        assert len({link.remote_id for link in links}) == EMAILS
    hub_status(twin.hub)  # settles runs whose process is gone
    with twin.hub.session() as s:
        statuses = list(s.scalars(select(SyncRun.status).where(SyncRun.job == "activity_push")))
    assert statuses == ["interrupted", "succeeded"]
