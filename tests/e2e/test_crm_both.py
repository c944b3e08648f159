"""The two-way CRM sync's scenarios written once, run against both CRMs (the Salesforce sandbox
over HTTPS and the HubSpot sandbox over HTTP, each on a real socket): assertions on what the CRM
holds, what the hub holds and what the error log says."""

from __future__ import annotations

import asyncio
import random
import time

from sqlalchemy import func, select

from leadbridge.engine.sync.pull import pull
from leadbridge.engine.sync.push import push
from leadbridge.engine.sync.undo import undo_run
from leadbridge.hub.tables import Person
from leadbridge.policy.crm import CrmSync, SourceSetting

from .crm_twins import Twin


def ready(twin: Twin) -> None:
    twin.activate()
    twin.pull(manual=True)


def hub_people(twin: Twin) -> int:
    with twin.hub.session() as s:
        return int(s.scalar(select(func.count()).select_from(Person)) or 0)


def as_contacts(twin: Twin) -> CrmSync:
    policy = twin.policy.model_copy(deep=True)
    policy.push.create_people_as = "contact"
    return policy


def test_the_tutorials_test_one_email_in_the_crm_and_the_hub_ends_as_one_linked_pair(
    twin: Twin,
) -> None:
    company = twin.remote_company("Example Inc", "example.com")
    remote = twin.remote_person("TEST@example.com", "Test", company)
    # The same address, typed differently, already in the hub.
    pid = twin.person(first_name="Tess", last_name="Test", email="test@EXAMPLE.com")
    ready(twin)
    twin.push()
    twin.push()
    assert [p["id"] for p in twin.people()] == [remote]
    stream, linked = twin.person_link(pid)
    assert linked == remote and hub_people(twin) == 1
    # Linked: the hub's first name (both ways; the CRM had none) reached the CRM's record.
    row = twin.person_row(stream, remote)
    assert row is not None and row[twin.F["first_name"]] == "Tess"
    # The CRM's company came along: the person's company in the hub is the CRM's.
    assert twin.get_person(pid).company_id is not None
    assert twin.link("company", twin.get_person(pid).company_id or 0) == {
        "Account" if twin.system == "salesforce" else "companies": company
    }


def test_crm_owned_status_fields_are_never_overwritten_by_the_hub(twin: Twin) -> None:
    ready(twin)
    pid = twin.person(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@calc.io",
        company={"name": "Calc", "domain": "calc.io"},
    )
    twin.push()
    stream, rid = twin.person_link(pid)
    twin.edit_remote(stream, rid, {o.crm: o.crm_value for o in twin.owned})
    twin.edit_person(pid, title="CTO", **{o.hub: o.hub_value for o in twin.owned})
    twin.push()
    twin.pull()
    row = twin.person_row(stream, rid)
    assert row is not None and row[twin.F["title"]] == "CTO"  # hub-owned: pushed
    person = twin.get_person(pid)
    for owned in twin.owned:
        assert row[owned.crm] == owned.crm_value  # the CRM's value stands
        assert getattr(person, owned.hub) == owned.crm_value  # and flowed into the hub


def test_a_thousand_rounds_of_edits_on_both_sides_never_oscillate_or_lose_an_edit(
    twin: Twin,
) -> None:
    ready(twin)
    people = [
        twin.person(
            first_name=f"F{i}",
            last_name=f"L{i}",
            email=f"p{i}@round.io",
            company={"name": "Round", "domain": "round.io"},
        )
        for i in range(3)
    ]
    twin.push()
    remote = {p: twin.person_link(p) for p in people}
    F, status = twin.F, twin.rounds_status
    expected = {}
    for p, (stream, rid) in remote.items():
        row = twin.person_row(stream, rid)
        assert row is not None
        expected[p] = {
            "first_name": row[F["first_name"]],
            "last_name": row[F["last_name"]],
            "title": None,
            "status": row.get(status.crm),
        }
    rng = random.Random(11)
    ctx = twin.ctx()

    async def cycle() -> None:
        await pull(ctx)
        await push(ctx)

    def writes() -> dict[str, int]:
        by_route = ctx.connector.calls.by_route
        return {r: n for r, n in by_route.items() if r.startswith(("PATCH", "POST")) and (
            "search" not in r)}  # fmt: skip

    async def one(n: int) -> None:
        p = rng.choice(people)
        stream, rid = remote[p]
        name = rng.choice(["first_name", "last_name"])
        kind, value = rng.random(), f"v{n}"
        if kind < 0.35:
            twin.edit_person(p, **{name: value})
            expected[p][name] = value
        elif kind < 0.7:
            twin.edit_remote(stream, rid, {F[name]: value})
            expected[p][name] = value
        elif kind < 0.8:  # both sides, the CRM last: the CRM's edit is the latest
            twin.edit_person(p, **{name: value + "h"})
            time.sleep(0.002)
            twin.edit_remote(stream, rid, {F[name]: value + "c"})
            expected[p][name] = value + "c"
        elif kind < 0.9:
            twin.edit_remote(stream, rid, {status.crm: rng.choice(twin.status_values())})
            row = twin.person_row(stream, rid)
            assert row is not None
            expected[p]["status"] = row[status.crm]
        else:
            twin.edit_person(p, title=value)
            expected[p]["title"] = value
        await cycle()

    async def rounds() -> None:
        for n in range(1000):
            await one(n)
        # Settled: one more cycle writes nothing on either side.
        before = writes()
        await cycle()
        assert writes() == before

    asyncio.run(rounds())
    for p, (stream, rid) in remote.items():
        row = twin.person_row(stream, rid)
        assert row is not None
        person, want = twin.get_person(p), expected[p]
        crm = (row[F["first_name"]], row[F["last_name"]], row[F["title"]], row.get(status.crm))
        assert crm == (want["first_name"], want["last_name"], want["title"], want["status"])
        hub = (person.first_name, person.last_name, person.title, getattr(person, status.hub))
        assert hub == crm


def test_an_ambiguous_company_is_logged_not_guessed(twin: Twin) -> None:
    zed = twin.company(name="Zed", domain="zed.io")  # the hub's company, before the first pull
    twin.remote_company("Zed", "zed.io")
    twin.remote_company("Zed Two", "https://www.zed.io", duplicate=True)
    ready(twin)
    assert twin.link("company", zed) == {}  # two candidates: neither is picked
    assert any(e.hub_id == zed and "ambiguous" in e.message for e in twin.errors())
    pid = twin.person(last_name="Zee", email="z@zed.io", company=zed)
    report = twin.push(as_contacts(twin))
    assert twin.people() == [] and len(twin.companies()) == 2
    assert report.counts.get("failed") == 2  # the company (company push) and the person
    (entry,) = [e for e in twin.errors() if e.hub_object == "person" and e.hub_id == pid]
    assert "ambiguous" in entry.message and "merge" in (entry.hint or "")


def test_a_value_outside_a_restricted_enumeration_is_caught_before_sending(twin: Twin) -> None:
    ready(twin)
    field, allowed = twin.restricted_source()
    pid = twin.person(
        last_name="Pick", email="pick@list.io", company={"name": "PL", "domain": "list.io"}
    )
    policy = twin.policy.model_copy(deep=True)
    policy.push.people_source = SourceSetting(field=field, value="leadbridge")
    ctx = twin.ctx(policy)
    asyncio.run(push(ctx))
    assert not [p for p in twin.people() if str(p.get(twin.F["email"])) == "pick@list.io"]
    (entry,) = [e for e in twin.errors() if e.hub_id == pid]
    assert entry.field == field and entry.hint and allowed in entry.hint
    writes = {
        route: n
        for route, n in ctx.connector.calls.by_route.items()
        if route.startswith(("POST", "PATCH")) and "search" not in route
    }
    # One write was sent: the company's create. The person never left the hub.
    assert list(writes.values()) == [1] and len(twin.companies()) == 1, writes


def test_undo_restores_the_before_image_and_sticks(twin: Twin) -> None:
    company = twin.remote_company("Old Name", "undo.io")
    ready(twin)
    hub_company = twin.company(domain="undo.io")  # the one the pull made
    with twin.hub.session() as s:
        from leadbridge.hub.edits import edit
        from leadbridge.hub.tables import Company

        found = s.get(Company, hub_company)
        assert found is not None
        edit(s, found, {"name": "New Name", "employee_count": 120}, origin="user")
    new_person = twin.person(last_name="New", email="new@undo.io", company=hub_company)
    report = twin.push()
    name, size = twin.F["name"], twin.F["employee_count"]
    row = twin.company_row(company) or {}
    assert row[name] == "New Name" and float(row[size]) == 120
    stream, created = twin.person_link(new_person)

    result = asyncio.run(undo_run(twin.ctx(), report.run_id))
    row = twin.company_row(company) or {}
    assert row[name] == "Old Name" and row.get(size) in (None, "")
    assert twin.person_row(stream, created) is None  # deleted (archived in HubSpot)
    assert (result.restored, result.deleted) == (1, 1)
    assert twin.link("person", new_person) == {}

    # It sticks: the hub still holds what was pushed, yet the next push sends none of it.
    again = twin.push()
    assert (twin.company_row(company) or {})[name] == "Old Name"
    assert twin.people() == []
    assert again.plan is not None
    assert {d.action for d in again.plan.people if d.hub_id == new_person} == {"skip"}
    # A change in the hub is sent; a manual push brings the person back.
    with twin.hub.session() as s:
        found = s.get(Company, hub_company)
        assert found is not None
        edit(s, found, {"name": "Newer Name"}, origin="user")
    twin.push()
    assert (twin.company_row(company) or {})[name] == "Newer Name"
    twin.push(manual=True, person_ids=[new_person], company_ids=[])
    assert [p[twin.F["email"]] for p in twin.people()] == ["new@undo.io"]


def test_a_merge_in_the_crm_is_followed_never_pulled_in_as_someone_new(twin: Twin) -> None:
    ready(twin)
    company = {"name": "Merge", "domain": "merge.io"}
    ann = twin.person(first_name="Ann", last_name="A", email="ann@merge.io", company=company)
    bob = twin.person(first_name="Bob", last_name="B", email="bob@merge.io", company=company)
    twin.push()
    stream, ann_id = twin.person_link(ann)
    _, bob_id = twin.person_link(bob)
    survivor = twin.merge_people(stream, ann_id, bob_id)
    twin.pull()
    assert hub_people(twin) == 2  # the survivor (a new id in HubSpot) is nobody new
    assert twin.person_link(ann) == (stream, survivor)
    if twin.reads_merges:  # the other merged record's hub person is one CRM record too
        flagged = twin.get_person(bob).potential_duplicate or ""
        assert survivor in flagged and "merged" in flagged
    twin.edit_person(ann, title="Chief")
    twin.push()
    assert [p["id"] for p in twin.people()] == [survivor]  # nobody created again
    assert (twin.person_row(stream, survivor) or {})[twin.F["title"]] == "Chief"


def test_a_new_person_who_is_a_crm_record_under_another_email_is_held_not_created(
    twin: Twin,
) -> None:
    from leadbridge.engine.sync.push import plan

    company = twin.remote_company("Globex Corporation", "globex.com")
    remote = twin.remote_person("robert.smith@globex.com", "Smith", company)
    stream = "Contact" if twin.system == "salesforce" else "contacts"
    twin.edit_remote(stream, remote, {twin.F["first_name"]: "Robert"})
    ready(twin)
    before = {p["id"] for p in twin.people()}
    globex = {"name": "Globex", "domain": "globex.com"}
    # Bob Smith at globex.com under another e-mail: the CRM's Robert Smith. His colleague
    # Jane Smith (same company, same last name) is someone else, and is created.
    bob = twin.person(
        first_name="Bob", last_name="Smith", email="bsmith@globex.com", company=globex
    )
    jane = twin.person(
        first_name="Jane", last_name="Smith", email="jane@globex.com", company=globex
    )
    # A Smith with no first name: a last name and a domain are too little to stop a create.
    nameless = twin.person(last_name="Smith", email="smith@globex.com", company=globex)
    report = twin.push()
    created = {p["id"] for p in twin.people()} - before
    assert twin.link("person", jane) and twin.link("person", nameless)
    assert len(created) == 2  # Jane and the nameless Smith, not Bob
    assert twin.link("person", bob) == {}
    assert report.plan is not None
    (held,) = [d for d in report.plan.people if d.hub_id == bob]
    assert held.action == "error" and held.remote_id == remote
    text = held.describe()
    assert f"possible duplicate of {twin.ctx().label} " in text and remote in text
    assert "first name nickname" in text and "last name same" in text
    (entry,) = [e for e in twin.errors() if e.hub_object == "person" and e.hub_id == bob]
    assert remote in entry.message and "--allow-duplicate" in (entry.hint or "")
    # `explain` (the plan of one person) says the same; the next run holds it again.
    (again,) = plan(twin.ctx(), person_ids=[bob], company_ids=[]).people
    assert again.action == "error" and remote in again.reason
    second = twin.push()
    assert second.counts.get("held") == 1
    assert {p["id"] for p in twin.people()} - before == created
    # A person who knows better pushes it anyway.
    twin.push(person_ids=[bob], company_ids=[], manual=True, allow_duplicates=True)
    _, bob_remote = twin.person_link(bob)
    assert bob_remote not in before and bob_remote != remote
    assert not [e for e in twin.errors() if e.hub_object == "person" and e.hub_id == bob]


def test_the_duplicate_guard_follows_its_policy_threshold(twin: Twin) -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="possible_duplicate_threshold"):
        CrmSync.model_validate({"push": {"possible_duplicate_threshold": 0.2}})
    company = twin.remote_company("Initech", "initech.com")
    twin.remote_person("peter@initech.com", "Gibbons", company)
    ready(twin)
    pid = twin.person(
        first_name="Peter",
        last_name="Gibbons",
        email="pgibbons@initech.com",
        company={"name": "Initech", "domain": "initech.com"},
    )
    off = twin.policy.model_copy(deep=True)
    off.push.possible_duplicate_threshold = None
    twin.push(off)
    assert twin.link("person", pid)  # the guard off: created as asked
