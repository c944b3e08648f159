"""Activities into the hub: the CSV import (person by e-mail, company by domain, once by the
source's id) and the write path, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadbridge.hub.activities import ActivityError, import_activities, record_activity
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import create
from leadbridge.hub.tables import Activity, Company, Person

HEADER = (
    "kind,id,email,domain,date,subject,body,direction,from,to,cc,sequence,outcome,duration,"
    "recording,start,end,location,attendees,due,status\n"
)


def _seed(hub: Hub) -> tuple[int, int, int]:
    with hub.session() as s:
        acme = create(s, Company(workspace_id=hub.workspace_id), {"domain": "acme.com"},
                      origin="sync")  # fmt: skip
        other = create(s, Company(workspace_id=hub.workspace_id), {"domain": "other.io"},
                       origin="sync")  # fmt: skip
        ann = create(s, Person(workspace_id=hub.workspace_id),
                     {"email": "ann@acme.com", "company_id": acme.id}, origin="sync")  # fmt: skip
        return ann.id, acme.id, other.id


def test_each_kind_is_imported_once_by_its_id(any_hub: Hub, tmp_path: Path) -> None:
    ann, acme, other = _seed(any_hub)
    path = tmp_path / "a.csv"
    path.write_text(
        HEADER + "email,e1,ann@acme.com,,2026-11-02T10:00:00Z,Hello,Hi Ann,out,rep@team.example,"
        "ann@acme.com,boss@team.example;x@team.example,yes,,,,,,,,,\n"
        + "call,c1,ann@acme.com,,2026-11-02 11:00,,,,,,,,connected,95,https://rec.example/1,"
        ",,,,,\n" + "meeting,m1,ann@acme.com,other.io,,Demo,,,,,,,,,,2026-11-03T09:00:00+01:00,"
        "2026-11-03T10:00:00+01:00,Zoom,ann@acme.com bob@team.example,,\n"
        + "note,n1,,acme.com,2026-11-04,,A note,,,,,,,,,,,,,,\n"
        + "task,t1,ann@acme.com,,2026-11-04,Follow up,,,,,,,,,,,,,,2026-11-10,done\n"
    )
    report = import_activities(any_hub, path)
    assert report.errors == [] and report.created == 5
    with any_hub.session() as s:
        rows = {a.source_id: a for a in s.scalars(select(Activity))}
    email = rows["e1"]
    assert (email.kind, email.person_id, email.company_id) == ("email", ann, acme)
    assert email.direction == "outgoing" and email.sent_from_sequence is True
    assert email.cc_emails == ["boss@team.example", "x@team.example"]
    assert rows["c1"].call_duration_seconds == 95 and rows["c1"].call_outcome == "connected"
    meeting = rows["m1"]
    assert meeting.company_id == other  # the named domain wins over the person's company
    assert meeting.occurred_at.hour == 8  # the start, in UTC
    assert meeting.attendees == ["ann@acme.com", "bob@team.example"]
    assert rows["n1"].person_id is None and rows["n1"].company_id == acme
    assert rows["t1"].task_status == "completed" and rows["t1"].due_at is not None

    again = import_activities(any_hub, path)  # the same file again: nothing new
    assert (again.created, again.unchanged) == (0, 5)
    with any_hub.session() as s:
        assert s.scalar(select(func.count()).select_from(Activity)) == 5


def test_bad_rows_are_reported_and_nothing_of_them_is_written(any_hub: Hub, tmp_path: Path) -> None:
    _seed(any_hub)
    path = tmp_path / "a.csv"
    path.write_text(
        HEADER
        + "email,ok1,ann@acme.com,,2026-11-02,Fine,,,,,,,,,,,,,,,\n"
        + "fax,x1,ann@acme.com,,2026-11-02,,,,,,,,,,,,,,,,\n"
        + "email,x2,nobody@acme.com,,2026-11-02,,,,,,,,,,,,,,,,\n"
        + "note,x3,,unknown.org,2026-11-02,,,,,,,,,,,,,,,,\n"
        + "call,x4,ann@acme.com,,yesterday,,,,,,,,,,,,,,,,\n"
        + "call,,ann@acme.com,,2026-11-02,,,,,,,,,,,,,,,,\n"
        + "email,ok1,ann@acme.com,,2026-11-02,Twice,,,,,,,,,,,,,,,\n"
        + "email,x5,ann@acme.com,,2026-11-02,,,sideways,,,,,,,,,,,,,\n"
        + "note,x6,,,2026-11-02,,,,,,,,,,,,,,,,\n"
    )
    report = import_activities(any_hub, path)
    reasons = dict(report.errors)
    assert report.created == 1
    assert "kind 'fax'" in reasons[3]
    assert "no hub person with e-mail nobody@acme.com" in reasons[4]
    assert "no hub company with domain unknown.org" in reasons[5]
    assert "'yesterday' is not a date" in reasons[6]
    assert "missing id" in reasons[7]
    assert "already on row 2" in reasons[8]
    assert "direction 'sideways'" in reasons[9]
    assert "names no person" in reasons[10]
    with any_hub.session() as s:
        assert [a.source_id for a in s.scalars(select(Activity))] == ["ok1"]

    strict = import_activities(any_hub, path, strict=True)
    assert strict.written is False


def test_the_write_path_upserts_by_source_id(any_hub: Hub) -> None:
    ann, _, _ = _seed(any_hub)
    values = {
        "kind": "note", "source": "hub", "source_id": "n-1", "person_id": ann,
        "occurred_at": datetime(2026, 11, 1, tzinfo=UTC),
        "body_preview": "first",
    }  # fmt: skip
    with any_hub.session() as s:
        assert record_activity(s, any_hub.workspace_id, values)[1] == "created"
    with any_hub.session() as s:
        assert record_activity(s, any_hub.workspace_id, values)[1] == "unchanged"
        changed = {**values, "body_preview": "second"}
        assert record_activity(s, any_hub.workspace_id, changed)[1] == "updated"
    with any_hub.session() as s:
        with pytest.raises(ActivityError, match="kind"):
            record_activity(s, any_hub.workspace_id, {**values, "kind": "fax"})
        with pytest.raises(ActivityError, match="none named"):
            record_activity(s, any_hub.workspace_id, {**values, "source_id": "n-2",
                                                      "person_id": None})  # fmt: skip
        assert [a.body_preview for a in s.scalars(select(Activity))] == ["second"]
