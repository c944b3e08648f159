"""Merges and deletions on both CRMs (issue 11), each scenario written once and run against the
Salesforce and the HubSpot sandbox: assertions on what the CRM holds, what the hub holds (its
tombstones and links) and what the error log says."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from leadbridge.engine.status import hub_status
from leadbridge.engine.sync.pull.run import CHUNK, PullReport
from leadbridge.engine.sync.push.plan import plan
from leadbridge.engine.sync.undo import undo_run
from leadbridge.hub.tables import Company, Person, RecordLink
from leadbridge.policy.crm import CrmSync

from .cli_runner import lb
from .crm_twins import Twin
from .crm_world import CrmWorld


def ready(twin: Twin) -> None:
    twin.activate()
    twin.pull(manual=True)


def as_contacts(twin: Twin) -> CrmSync:
    policy = twin.policy.model_copy(deep=True)
    policy.push.create_people_as = "contact"
    return policy


def pull(twin: Twin) -> PullReport:
    """`leadbridge pull`: a manual pull reads deletions every time (a scheduled one at most
    every `pull.deletions_minutes`)."""
    return twin.pull(manual=True)


def with_sync(twin: Twin, *, deletion: object = "off", merge: object = "off") -> CrmSync:
    policy = twin.policy.model_copy(deep=True)
    twin.policy = CrmSync.model_validate(
        {**policy.model_dump(), "deletion_sync": deletion, "merge_sync": merge}
    )
    return twin.policy


def links_of(twin: Twin, kind: str, hub_id: int) -> list[tuple[str, str | None, str]]:
    with twin.hub.session() as s:
        return [
            (link.remote_object, link.remote_id, link.status)
            for link in s.scalars(
                select(RecordLink).where(
                    RecordLink.hub_object == kind,
                    RecordLink.hub_id == hub_id,
                    RecordLink.remote_system == twin.system,
                )
            )
        ]


def live_people(twin: CrmWorld) -> list[int]:
    with twin.hub.session() as s:
        return list(s.scalars(select(Person.id).where(Person.deleted_at.is_(None))))


def tombstone(twin: Twin, model: type[Person | Company], hub_id: int) -> tuple[bool, int]:
    with twin.hub.session() as s:
        record = s.get(Person, hub_id) if model is Person else s.get(Company, hub_id)
        assert record is not None
        return record.deleted_at is not None, record.merged_into or 0


def pushed_person(twin: Twin, email: str, domain: str) -> tuple[int, str, str]:
    pid = twin.person(
        first_name="Pat",
        last_name="Gone",
        email=email,
        company={"name": domain.split(".")[0].title(), "domain": domain},
    )
    report = twin.push()
    assert not report.counts.get("failed"), report.counts
    stream, rid = twin.person_link(pid)
    return pid, stream, rid


def test_a_crm_deletion_with_deletion_sync_off_unlinks_and_no_push_fails_or_recreates(
    twin: Twin,
) -> None:
    ready(twin)
    pid, stream, rid = pushed_person(twin, "pat@gone.io", "gone.io")
    twin.delete_remote(stream, rid)
    scheduled = twin.pull()  # within pull.deletions_minutes of the last read: not read yet
    assert not any(k.startswith("read_deleted") for k in scheduled.counts), scheduled.counts
    assert links_of(twin, "person", pid) == [(stream, rid, "created")]
    pull(twin)
    assert links_of(twin, "person", pid) == [(stream, rid, "remote_deleted")]
    assert tombstone(twin, Person, pid) == (False, 0)  # deletion sync off: the hub keeps it
    status = hub_status(twin.hub)
    assert status.links.get("remote_deleted") == 1 and status.people == 1
    (crm,) = status.crm
    assert (crm.people.in_sync, crm.people.not_linked) == (0, 1)
    twin.edit_person(pid, title="Still here")
    for _ in range(2):
        report = twin.push()
        assert not report.counts.get("failed"), report.counts
    assert twin.person_row(stream, rid) is None
    assert [p[twin.F["email"]] for p in twin.people()] == []  # never a zombie
    assert twin.errors() == []
    (decision,) = [d for d in plan(twin.ctx()).people if d.hub_id == pid]
    assert decision.action == "skip" and "deleted in" in decision.reason
    # Pushed by hand, it is created again.
    twin.push(manual=True, person_ids=[pid], company_ids=[])
    assert [p[twin.F["email"]] for p in twin.people()] == ["pat@gone.io"]
    _, new = twin.person_link(pid)
    assert new != rid and twin.person_row(stream, new) is not None


def test_a_crm_deletion_with_deletion_sync_on_tombstones_and_undo_restores(twin: Twin) -> None:
    with_sync(twin, deletion="on")
    ready(twin)
    pid, stream, rid = pushed_person(twin, "pat@tomb.io", "tomb.io")
    twin.delete_remote(stream, rid)
    pulled = pull(twin)
    assert pulled.counts.get("hub_deleted_person") == 1, pulled.counts
    assert tombstone(twin, Person, pid)[0] and pid not in live_people(twin)
    assert not twin.push().counts.get("failed")
    assert twin.people() == [] and twin.errors() == []
    asyncio.run(undo_run(twin.ctx(), pulled.run_id))
    assert tombstone(twin, Person, pid) == (False, 0) and pid in live_people(twin)
    # Restored in the hub, still unlinked from the deleted record: not recreated by a push.
    assert links_of(twin, "person", pid) == [(stream, rid, "remote_deleted")]
    twin.push()
    assert twin.people() == []


def test_a_record_restored_in_the_crm_is_linked_again_and_its_tombstone_lifted(
    twin: Twin,
) -> None:
    with_sync(twin, deletion="on")
    ready(twin)
    pid, stream, rid = pushed_person(twin, "pat@back.io", "back.io")
    twin.delete_remote(stream, rid)
    pull(twin)
    assert tombstone(twin, Person, pid)[0]
    twin.restore_remote(stream, rid)
    pulled = pull(twin)
    assert pulled.counts.get(f"{twin.ctx().stream(stream).many()}_restored") == 1, pulled.counts
    assert tombstone(twin, Person, pid) == (False, 0)
    assert links_of(twin, "person", pid) == [(stream, rid, "adopted")]
    twin.edit_person(pid, title="Back")
    assert not twin.push().counts.get("failed")
    assert (twin.person_row(stream, rid) or {})[twin.F["title"]] == "Back"
    assert [p["id"] for p in twin.people()] == [rid] and twin.errors() == []


def test_a_hub_deletion_deletes_the_crm_record_with_deletion_sync_on(twin: Twin) -> None:
    with_sync(twin, deletion="on")
    ready(twin)
    pid, stream, rid = pushed_person(twin, "pat@hubdel.io", "hubdel.io")
    out = lb("delete", "person", "pat@hubdel.io")
    assert out.exit_code == 0 and f"person {pid} deleted" in out.output, out.output
    report = twin.push()
    assert report.counts.get(f"{twin.ctx().stream(stream).many()}_deleted") == 1, report.counts
    assert twin.person_row(stream, rid) is None
    assert links_of(twin, "person", pid) == [(stream, rid, "unlinked")]
    pull(twin)  # the deletion read back changes nothing, resurrects nothing
    assert tombstone(twin, Person, pid)[0] and twin.people() == []
    assert not twin.push().counts.get("failed") and twin.errors() == []
    bad = lb("delete", "person", "nobody@nowhere.io")
    assert bad.exit_code == 1 and "no person 'nobody@nowhere.io'" in bad.output


def test_a_hub_deletion_with_deletion_sync_off_only_unlinks(twin: Twin) -> None:
    ready(twin)
    pid, stream, rid = pushed_person(twin, "pat@keep.io", "keep.io")
    assert lb("delete", "person", str(pid)).exit_code == 0
    report = twin.push()
    assert report.counts.get("unlinked") == 1, report.counts
    assert twin.person_row(stream, rid) is not None  # the CRM keeps it
    assert links_of(twin, "person", pid) == [(stream, rid, "unlinked")]
    twin.edit_remote(stream, rid, {twin.F["title"]: "Changed in the CRM"})
    pull(twin)
    assert tombstone(twin, Person, pid)[0] and live_people(twin) == []  # not pulled back in
    assert twin.errors() == []


def test_a_crm_company_deletion_takes_its_people_in_a_wave(twin: Twin) -> None:
    policy = with_sync(twin, deletion="on")
    policy.push.create_people_as = "contact"
    ready(twin)
    company = {"name": "Wave", "domain": "wave.io"}
    people = [
        twin.person(first_name="P", last_name=f"N{i}", email=f"p{i}@wave.io", company=company)
        for i in range(12)
    ]
    assert not twin.push().counts.get("failed")
    cid = twin.get_person(people[0]).company_id or 0
    ((company_stream, account),) = twin.link("company", cid).items()
    twin.delete_remote(company_stream, account)
    pulled = pull(twin)
    assert tombstone(twin, Company, cid)[0]
    if twin.system == "salesforce":  # cascadeDelete: the Contacts went with their Account
        assert pulled.counts.get("hub_deleted_person") == len(people), pulled.counts
        assert live_people(twin) == [] and twin.people() == []
    else:  # HubSpot archives the company alone: its contacts live on
        assert sorted(live_people(twin)) == sorted(people)
    assert not twin.push().counts.get("failed") and twin.errors() == []
    assert twin.companies() == []  # the company is not made again


def test_a_merge_in_the_crm_with_merge_sync_on_is_mirrored_in_the_hub(twin: Twin) -> None:
    with_sync(twin, merge="on")
    ready(twin)
    company = {"name": "Merge", "domain": "merge.io"}
    ann = twin.person(first_name="Ann", last_name="A", email="ann@merge.io", company=company)
    bob = twin.person(
        first_name="Bob", last_name="B", email="bob@merge.io", title="CFO", company=company
    )
    twin.push()
    stream, ann_id = twin.person_link(ann)
    _, bob_id = twin.person_link(bob)
    survivor = twin.merge_people(stream, ann_id, bob_id)
    pulled = pull(twin)
    assert pulled.counts.get("hub_merged_person") == 1, pulled.counts
    assert live_people(twin) == [ann]
    assert tombstone(twin, Person, bob) == (True, ann)
    assert twin.person_link(ann) == (stream, survivor)
    assert links_of(twin, "person", bob) == []  # the loser's link is gone
    assert twin.get_person(ann).title == "CFO"  # Bob's value where Ann had none
    assert twin.get_person(ann).potential_duplicate is None
    twin.edit_person(ann, first_name="Annie")
    assert not twin.push().counts.get("failed")
    pull(twin)
    assert [p["id"] for p in twin.people()] == [survivor]  # nothing resurrected
    assert (twin.person_row(stream, survivor) or {})[twin.F["first_name"]] == "Annie"
    assert live_people(twin) == [ann] and twin.errors() == []


def test_a_company_merge_in_the_crm_moves_the_people_to_the_surviving_company(
    twin: Twin,
) -> None:
    policy = with_sync(twin, merge={"company": "on"})
    policy.push.create_people_as = "contact"
    ready(twin)
    ann = twin.person(
        first_name="Ann",
        last_name="A",
        email="ann@one.io",
        company={"name": "One", "domain": "one.io"},
    )
    bob = twin.person(
        first_name="Bob",
        last_name="B",
        email="bob@uno.io",
        company={"name": "Uno", "domain": "uno.io"},
    )
    assert not twin.push().counts.get("failed")
    one, uno = twin.get_person(ann).company_id or 0, twin.get_person(bob).company_id or 0
    ((stream, one_id),) = twin.link("company", one).items()
    ((_, uno_id),) = twin.link("company", uno).items()
    survivor = twin.merge_people(stream, one_id, uno_id)
    pulled = pull(twin)
    assert pulled.counts.get("hub_merged_company") == 1, pulled.counts
    assert tombstone(twin, Company, uno) == (True, one)
    assert twin.link("company", one) == {stream: survivor}
    assert twin.get_person(bob).company_id == one  # re-pointed to the surviving company
    assert sorted(live_people(twin)) == sorted([ann, bob])  # people merge sync is off
    assert not twin.push().counts.get("failed")
    assert [c["id"] for c in twin.companies()] == [survivor] and twin.errors() == []


def test_a_merge_in_the_hub_keeps_the_survivors_link_and_the_crm_keeps_both(twin: Twin) -> None:
    ready(twin)
    company = {"name": "Twice", "domain": "twice.io"}
    keep = twin.person(first_name="Kim", last_name="K", email="kim@twice.io", company=company)
    other = twin.person(
        first_name="Kim", last_name="K", email="kim.k@twice.io", title="VP", company=company
    )
    twin.push()
    stream, keep_id = twin.person_link(keep)
    _, other_id = twin.person_link(other)
    out = lb("merge", "person", "kim@twice.io", "kim.k@twice.io")
    assert out.exit_code == 0 and f"person {other} merged into person {keep}" in out.output
    assert tombstone(twin, Person, other) == (True, keep)
    assert links_of(twin, "person", other) == [(stream, other_id, "unlinked")]
    assert twin.get_person(keep).title == "VP"
    report = twin.push()
    assert not report.counts.get("failed"), report.counts
    assert sorted(p["id"] for p in twin.people()) == sorted([keep_id, other_id])  # both kept
    assert (twin.person_row(stream, keep_id) or {})[twin.F["title"]] == "VP"
    twin.edit_remote(stream, other_id, {twin.F["title"]: "Edited in the CRM"})
    pull(twin)
    assert live_people(twin) == [keep] and twin.errors() == []
    again = lb("merge", "person", "kim@twice.io", str(other))
    assert again.exit_code == 1 and "is deleted" in again.output


def test_a_company_merge_in_the_hub_moves_its_people_and_unlinks_the_other(twin: Twin) -> None:
    ready(twin)
    ann = twin.person(
        last_name="A", email="ann@alpha.io", company={"name": "Alpha", "domain": "alpha.io"}
    )
    bob = twin.person(
        last_name="B", email="bob@alfa.io", company={"name": "Alfa", "domain": "alfa.io"}
    )
    assert not twin.push(as_contacts(twin)).counts.get("failed")
    alpha, alfa = twin.get_person(ann).company_id or 0, twin.get_person(bob).company_id or 0
    ((stream, alfa_id),) = twin.link("company", alfa).items()
    out = lb("merge", "company", "alpha.io", "alfa.io")
    assert out.exit_code == 0 and f"company {alfa} merged into company {alpha}" in out.output
    assert twin.get_person(bob).company_id == alpha
    assert tombstone(twin, Company, alfa) == (True, alpha)
    assert links_of(twin, "company", alfa) == [(stream, alfa_id, "unlinked")]
    assert not twin.push(as_contacts(twin)).counts.get("failed")
    assert len(twin.companies()) == 2 and twin.errors() == []  # the CRM keeps both
    twin.edit_remote(twin.person_link(bob)[0], twin.person_link(bob)[1], {twin.F["title"]: "X"})
    pull(twin)
    assert tombstone(twin, Company, alfa) == (True, alpha)  # nothing resurrected
    assert twin.get_person(bob).company_id == alpha  # not taken back to the merged company


def test_an_account_deleted_with_a_thousand_contacts_is_taken_in_in_batches(
    crm: CrmWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Salesforce's cascade: the Contacts of a deleted Account come out of queryAll with it;
    the pull takes the wave in chunks (run.CHUNK rows a transaction), not in one."""
    from leadbridge.engine.sync.pull import reconcile as module

    account = str(crm.org.create("Account", {"Name": "Wave", "Website": "bigwave.io"}).id)
    count = 1100
    for i in range(count):
        values = {"LastName": f"W{i}", "Email": f"w{i}@bigwave.io", "AccountId": account}
        crm.org.create("Contact", values)
    crm.policy = CrmSync.model_validate({"deletion_sync": "on"})
    crm.activate()
    crm.pull(manual=True)
    assert len(live_people(crm)) == count
    chunks: list[tuple[str, int]] = []
    real = module.reconcile

    def counted(s: Any, ctx: Any, report: Any, stream: Any, ids: list[str]) -> Any:
        chunks.append((stream.name, len(ids)))
        return real(s, ctx, report, stream, ids)

    monkeypatch.setattr(module, "reconcile", counted)
    assert crm.org.delete("Account", account).success
    pulled = crm.pull(manual=True)
    assert pulled.counts.get("hub_deleted_person") == count, pulled.counts
    assert pulled.counts.get("hub_deleted_company") == 1, pulled.counts
    assert live_people(crm) == []
    contact_chunks = [n for name, n in chunks if name == "Contact"]
    assert sum(contact_chunks) == count and max(contact_chunks) <= CHUNK < count
    assert crm.errors() == []
