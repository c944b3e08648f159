"""The lead push against the Apollo sandbox over real sockets: what Apollo then holds."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from leadbridge.engine.leadpush.plan import Action
from leadbridge.hub.edits import edit
from leadbridge.hub.tables import Company, ErrorLogEntry, RecordLink, User, utcnow

from .conftest import REPS, STAGES, World, lead


def domains_of(accounts: list[dict]) -> Counter[str]:
    return Counter(a["domain"] for a in accounts)


def test_only_qualified_companies_become_exactly_one_account_with_the_mapped_owner(
    world: World,
) -> None:
    rng = random.Random(5)
    rows, expected = [], {}
    for i in range(240):
        row = lead(
            f"co{i}.com",
            icp_fit=rng.choice(["strong", "moderate", "not_a_fit", "unknown"]),
            stage=rng.choice([*STAGES, "customer", "not_a_fit", ""]),
            quarantine=rng.choice(["active"] * 4 + ["quarantined"]),
            owner=rng.choice([*REPS, ""]),
        )
        row["customer"] = "true" if row["stage"] == "customer" else "false"
        rows.append(row)
        qualifies = (
            row["icp_fit"] in ("strong", "moderate")
            and row["stage"] in STAGES[2:]  # above the default threshold "target"
            and row["quarantine"] == "active"
            and row["owner"]
        )
        if qualifies:
            expected[row["domain"]] = world.apollo_users[row["owner"]]
    world.companies(rows)

    report = world.run()

    assert report.status == "succeeded", report.message
    accounts = world.accounts()
    assert domains_of(accounts) == Counter(expected.keys())  # each exactly once, nothing else
    assert {a["domain"]: a["owner_id"] for a in accounts} == expected
    assert report.counts["created"] == len(expected)
    with world.hub.session() as s:
        links = s.scalars(select(RecordLink)).all()
    assert {link.remote_id for link in links} == {a["id"] for a in accounts}
    assert all(link.status == "created" and link.payload_hash for link in links)


def test_preexisting_accounts_are_adopted_and_given_the_mapped_owner(world: World) -> None:
    other_owner = world.apollo_users[REPS[2]]
    existing = world.sandbox.add_account(name="Old Acme", domain="acme.com", owner_id=other_owner)
    world.companies([lead("acme.com", name="Acme", owner=REPS[0]), lead("beta.io")])

    report = world.run()

    assert (report.counts["adopted"], report.counts["created"]) == (1, 1)
    accounts = {a["domain"]: a for a in world.accounts()}
    assert len(world.accounts()) == 2
    assert accounts["acme.com"]["id"] == existing["id"]
    assert accounts["acme.com"]["owner_id"] == world.apollo_users[REPS[0]]
    assert accounts["acme.com"]["name"] == "Acme"
    with world.hub.session() as s:
        link = s.scalar(select(RecordLink).where(RecordLink.remote_id == existing["id"]))
    assert link is not None and link.status == "adopted"


def test_a_renamed_lead_updates_its_account_and_a_second_run_changes_nothing(world: World) -> None:
    world.companies([lead("acme.com", name="Acme"), lead("beta.io", name="Beta")])
    world.run()
    calls_before = dict(world.sandbox.calls)
    accounts_before = {a["id"]: a for a in world.accounts()}

    second = world.run()

    assert second.counts["unchanged"] == 2 and second.counts["created"] == 0
    writes = {k: v - calls_before.get(k, 0) for k, v in world.sandbox.calls.items()}
    assert not any(v for k, v in writes.items() if "bulk" in k or "PATCH" in k), writes
    assert {a["id"]: a for a in world.accounts()} == accounts_before

    with world.hub.session() as s:
        s.execute(update(Company).where(Company.domain == "acme.com").values(name="Acme Corp"))
    world.age(timedelta(minutes=10))
    third = world.run()

    assert third.counts["updated"] == 1
    names = {a["domain"]: a["name"] for a in world.accounts()}
    assert names == {"acme.com": "Acme Corp", "beta.io": "Beta"}


def test_a_changed_owner_and_domain_reach_apollo(world: World) -> None:
    world.companies([lead("acme.com")])
    world.run()
    with world.hub.session() as s:
        ben_id = s.scalar(select(User.id).where(User.email == REPS[1]))
        s.execute(update(Company).values(domain="acme.io", owner_id=ben_id))
    world.age(timedelta(minutes=10))

    report = world.run()

    assert report.counts["updated"] == 1
    (account,) = world.accounts()
    assert (account["domain"], account["owner_id"]) == ("acme.io", world.apollo_users[REPS[1]])


def test_settle_buffer_and_touches(world: World) -> None:
    world.companies([lead("acme.com")], age=timedelta(minutes=1))
    report = world.run()
    assert report.skipped["settle buffer"] == 1 and world.accounts() == []
    world.age(timedelta(minutes=6))
    assert world.run().counts["created"] == 1


def test_a_deleted_owner_is_a_permanent_error_with_a_clear_message(world: World) -> None:
    world.companies([lead("acme.com", owner=REPS[1]), lead("beta.io", owner=REPS[0])])
    asyncio.run(sync_users_once(world))
    # The rep's Apollo user is deleted after our last user sync: Apollo answers 422 for it.
    world.sandbox.delete_user(world.apollo_users[REPS[1]])

    report = asyncio.run(world.push().run(sync_users_first=False))

    assert report.counts["created"] == 1 and report.counts["failed"] == 1
    assert [a["domain"] for a in world.accounts()] == ["beta.io"]
    with world.hub.session() as s:
        (entry,) = s.scalars(select(ErrorLogEntry)).all()
        link = s.scalar(select(RecordLink).where(RecordLink.status == "error"))
    # Apollo names only the id it refused; the hint says it is the owner and what to do.
    assert entry.error_class == "permanent" and "not a valid id" in entry.message.lower()
    assert entry.hint and "owner" in entry.hint and "users sync" in entry.hint
    assert link is not None and link.remote_id is None and link.error_class == "permanent"
    # The same failing payload is not resent blindly ...
    acme = next(i for i in world.push().plan().items if i.domain == "acme.com")
    assert acme.action is Action.SKIP and acme.reason_key == "failed (permanent)"
    # ... and a normal run syncs users first, so it sees the owner is gone and says so.
    world.run()
    acme = next(i for i in world.push().plan().items if i.domain == "acme.com")
    assert acme.action is Action.SKIP and "deleted Apollo user" in acme.reason


async def sync_users_once(world: World) -> None:
    push = world.push()
    ctx = await push.open()
    try:
        await push.sync_users(ctx)
    finally:
        await ctx.connector.aclose()


def test_a_same_name_account_of_another_company_is_not_adopted(world: World) -> None:
    theirs = world.sandbox.add_account(name="Acme", domain="acme-hardware.com", owner_id=None)
    world.companies([lead("acme.com", name="Acme"), lead("beta.io", name="Beta")])
    before = dict(world.sandbox.calls)

    report = world.run()

    assert report.counts["created"] == 2 and report.counts["adopted"] == 0
    accounts = {a["domain"]: a for a in world.accounts()}
    assert accounts["acme-hardware.com"] == {
        **theirs,
        "updated_at": accounts["acme-hardware.com"]["updated_at"],
    }
    assert accounts["acme.com"]["name"] == "Acme"  # the probe name was put back
    assert accounts["acme.com"]["owner_id"] == world.apollo_users[REPS[0]]
    spent = {
        k: v - before.get(k, 0) for k, v in world.sandbox.calls.items() if v - before.get(k, 0)
    }
    assert spent["POST /api/v1/accounts/bulk_create"] == 2  # the batch, then the probe
    assert spent["POST /api/v1/accounts/bulk_update"] == 1  # the rename


def test_the_website_goes_to_the_configured_custom_field(world: World) -> None:
    world.companies([lead("acme.com")])
    world.run()
    (account,) = world.accounts()
    website_field = next(
        f["id"] for f in world.sandbox.state.custom_fields if f["name"] == "Website"
    )
    assert account["typed_custom_fields"] == {website_field: "https://acme.com"}


def test_a_manual_mapping_overrides_the_email_match_and_survives_user_syncs(world: World) -> None:
    from leadbridge.engine.users import map_user

    world.companies([lead("acme.com", owner=REPS[0])])
    map_user(
        world.hub,
        "apollo",
        world.connection.remote_scope or "",
        REPS[0],
        world.apollo_users[REPS[2]],
        "Apollo",
    )

    world.run()  # the run syncs users first: the manual mapping must hold

    (account,) = world.accounts()
    assert account["owner_id"] == world.apollo_users[REPS[2]]


def test_errors_retry_resends_a_permanent_failure_after_the_fix(world: World) -> None:
    from leadbridge.engine.errors import open_errors, retry_errors

    world.companies([lead("acme.com", owner=REPS[1])])
    asyncio.run(sync_users_once(world))
    world.sandbox.delete_user(world.apollo_users[REPS[1]])
    asyncio.run(world.push().run(sync_users_first=False))
    assert world.accounts() == [] and len(open_errors(world.hub)) == 1
    # The admin restores the rep in Apollo, then asks for a retry.
    world.sandbox.state.users[world.apollo_users[REPS[1]]]["deleted"] = False
    assert retry_errors(world.hub) == 1
    assert open_errors(world.hub) == []

    report = world.run()

    assert report.counts["created"] == 1 and [a["domain"] for a in world.accounts()] == ["acme.com"]


def test_a_plan_passes_by_leads_in_sync_until_a_rule_changes(world: World) -> None:
    world.companies([lead("acme.com", name="Acme"), lead("beta.io", name="Beta")])
    world.run()
    world.run()  # confirms both unchanged under the rules it planned with

    quiet = world.push().plan()
    assert quiet.quiet == 2 and quiet.items == [] and quiet.counts()["unchanged"] == 2
    (acme,) = world.push().plan(lead_ids=[quiet_id(world, "acme.com")]).items
    assert acme.action is Action.UNCHANGED and acme.checks  # explain still evaluates it

    with world.hub.session() as s:  # a rename is planned; beta stays quiet
        s.execute(update(Company).where(Company.domain == "acme.com").values(name="Acme Corp"))
    renamed = world.push().plan(everything=False)
    assert renamed.quiet == 1 and [i.domain for i in renamed.items] == ["acme.com"]

    # A name a CRM changed yesterday, pulled now, is news to Apollo: planned too.
    with world.hub.session() as s:
        beta = s.scalar(select(Company).where(Company.domain == "beta.io"))
        assert beta is not None
        edit(s, beta, {"name": "Beta Labs"}, origin="sync", at=utcnow() - timedelta(days=1))
    assert {i.domain for i in world.push().plan().items} == {"acme.com", "beta.io"}

    # A stricter threshold is a new fingerprint: every lead is evaluated again.
    settings = dict(world.connection.settings)
    settings["apollo_push"] = {**settings.get("apollo_push", {}), "stage_threshold": "ready_to_buy"}
    world.connections.update_settings(world.connection.id, settings)
    strict = world.push().plan()
    assert strict.quiet == 0
    assert {i.domain: i.action for i in strict.items} == {
        "acme.com": Action.DETACH,
        "beta.io": Action.DETACH,
    }


def quiet_id(world: World, domain: str) -> int:
    with world.hub.session() as s:
        company_id = s.scalar(select(Company.id).where(Company.domain == domain))
    assert company_id is not None
    return company_id
