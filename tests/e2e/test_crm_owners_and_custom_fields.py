"""Owners and custom fields in the two-way Salesforce sync, end to end over real sockets.

Owners travel as Salesforce user ids mapped to hub users by e-mail; by default the CRM owns
OwnerId. Custom fields are the policy's `custom.<name>` hub fields mapped to `__c` fields the
org's describe has. Assertions are on what the org holds, the hub, and the error log.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
from sqlalchemy import select

from leadbridge.connectors.salesforce.preset import PRESET
from leadbridge.engine.sync.lint import check
from leadbridge.hub.tables import Company, User, UserLink
from leadbridge.jobs.tasks import drain_task as drain_outbox
from leadbridge.policy.crm import CrmSync
from leadbridge.policy.lint import LintReport

from .crm_world import CrmWorld


def ready(crm: CrmWorld, policy: CrmSync | None = None) -> None:
    crm.activate()
    crm.pull(policy, manual=True)


def hub_user(crm: CrmWorld, email: str) -> int:
    with crm.hub.session() as s:
        existing = s.scalar(select(User).where(User.email == email.lower()))
        if existing is not None:
            return existing.id
        user = User(workspace_id=crm.hub.workspace_id, email=email.lower())
        s.add(user)
        s.flush()
        return user.id


def user_link(crm: CrmWorld, remote_user_id: str) -> UserLink | None:
    with crm.hub.session() as s:
        link = s.scalar(select(UserLink).where(UserLink.remote_user_id == remote_user_id))
        if link is not None:
            s.expunge(link)
        return link


def company_row(crm: CrmWorld, company_id: int) -> Company:
    with crm.hub.session() as s:
        c = s.get(Company, company_id)
        assert c is not None
        s.expunge(c)
        return c


def with_fields(policy: CrmSync, **extra: list[dict[str, Any]]) -> CrmSync:
    """The policy with its object maps' fields changed: `lead=[...]` replaces by CRM field name
    (and adds new ones); an entry with only `crm` removes that field."""
    data = policy.model_dump()
    for obj, changes in extra.items():
        current = data["objects"].get(obj) or PRESET.object_map(obj).model_dump()
        fields = {f["crm"]: f for f in current["fields"]}
        for change in changes:
            if set(change) == {"crm"}:
                fields.pop(change["crm"], None)
            else:
                fields[change["crm"]] = {"rule": None, **change}
        data["objects"][obj] = {"fields": list(fields.values())}
    return CrmSync.model_validate(data)


def owner_from_hub(policy: CrmSync) -> CrmSync:
    owner = {"hub": "owner", "crm": "OwnerId", "direction": "hub_to_crm"}
    return with_fields(policy, lead=[owner], contact=[owner], account=[owner])


def lint_of(crm: CrmWorld, policy: CrmSync) -> LintReport:
    return asyncio.run(check(crm.ctx(policy)))


# --- owners -----------------------------------------------------------------------------------


def test_the_salesforce_owner_becomes_the_hub_owner_and_follows_reassignment(
    crm: CrmWorld,
) -> None:
    ann = crm.org.add_user("Ann@Team.example", "Ann", "Rep")
    ben = crm.org.add_user("ben@team.example", "Ben", "Rep")
    hub_ann = hub_user(crm, "ann@team.example")  # the team's own users, matched by e-mail
    lead = crm.org.create(
        "Lead", {"LastName": "Owned", "Company": "Own Co", "Email": "owned@own.co", "OwnerId": ann}
    ).id
    ready(crm)
    (pid,) = [p for p in [_person_of(crm, "Lead", lead)] if p]
    assert crm.get_person(pid).owner_id == hub_ann
    link = user_link(crm, ben)
    assert link is not None and link.hub_user_id is not None  # a new rep becomes a hub user
    hub_ben = link.hub_user_id

    crm.org.bump("Lead", lead, {"OwnerId": ben}, ann)  # reassigned in Salesforce
    crm.pull()
    assert crm.get_person(pid).owner_id == hub_ben
    assert crm.org.row("Lead", lead)["OwnerId"] == ben

    # An owner with no hub user (a rep who left: deactivated after the reassignment) is not
    # mapped; the hub keeps the owner it had rather than losing it.
    cy = crm.org.add_user("cy@team.example", "Cy", "Rep")
    crm.org.bump("Lead", lead, {"OwnerId": cy}, ann)
    crm.org.update("User", cy, {"IsActive": False})
    crm.pull()
    cy_link = user_link(crm, cy)
    assert cy_link is not None and cy_link.hub_user_id is None and cy_link.deleted
    assert crm.get_person(pid).owner_id == hub_ben
    # CRM-owned: the hub's value is never pushed over Salesforce's.
    crm.push()
    assert crm.org.row("Lead", lead)["OwnerId"] == cy
    assert crm.errors() == []


def _person_of(crm: CrmWorld, sobject: str, remote_id: str) -> int | None:
    from leadbridge.hub.tables import RecordLink

    with crm.hub.session() as s:
        link = s.scalar(
            select(RecordLink).where(
                RecordLink.remote_object == sobject, RecordLink.remote_id == remote_id
            )
        )
        return link.hub_id if link else None


def test_owner_pushed_from_the_hub_when_the_policy_says_so(crm: CrmWorld) -> None:
    policy = owner_from_hub(crm.policy)
    ann = crm.org.add_user("ann@team.example", "Ann", "Rep")
    crm.org.add_user("dan@team.example", "Dan", "Gone", active=False)
    hub_ann = hub_user(crm, "ann@team.example")
    hub_dan = hub_user(crm, "dan@team.example")  # left: inactive in Salesforce
    hub_eve = hub_user(crm, "eve@team.example")  # no Salesforce user at all
    ready(crm, policy)
    integration = crm.org.integration_user

    mapped = crm.person(last_name="Mapped", email="m@own.io", owner_id=hub_ann,
                        company={"name": "Own", "domain": "own.io"})  # fmt: skip
    no_user = crm.person(
        last_name="NoUser", email="n@own.io", owner_id=hub_eve, company={"name": "Eve Co"}
    )
    inactive = crm.person(
        last_name="Inactive", email="i@own.io", owner_id=hub_dan, company={"name": "Dan Co"}
    )
    report = crm.push(policy)
    assert report.counts.get("failed", 0) == 0, crm.errors()
    owners = {r["Email"]: r["OwnerId"] for r in crm.rows("Lead")}
    # The mapped rep owns the lead; the others are created, owned by the connection's user
    # (Salesforce's own default), rather than refused or sent an empty or inactive owner.
    assert owners == {"m@own.io": ann, "n@own.io": integration, "i@own.io": integration}
    assert crm.errors() == []
    for pid in (mapped, no_user, inactive):
        assert crm.link("person", pid).get("Lead")
    assert report.plan is not None  # and the plan says why the owner was held back
    notes = {d.hub_id: d.reason for d in report.plan.people}
    assert "owner not sent" not in notes[mapped]
    assert f"owner not sent: hub user {hub_eve}" in notes[no_user]
    assert f"owner not sent: hub user {hub_dan}" in notes[inactive]

    # Contacts and accounts too.
    contacts = policy.model_copy(deep=True)
    contacts.push.create_people_as = "Contact"
    company = crm.company(name="Acct", domain="acct.io", owner_id=hub_ann)
    crm.person(last_name="Con", email="c@acct.io", owner_id=hub_ann, company=company)
    crm.push(contacts)
    (contact,) = crm.rows("Contact")
    account = crm.org.row("Account", contact["AccountId"])
    assert contact["OwnerId"] == ann and account["OwnerId"] == ann

    # The hub owns assignment: a reassignment in Salesforce is put back on the next sync.
    lead = crm.link("person", mapped)["Lead"]
    crm.org.bump("Lead", lead, {"OwnerId": integration}, ann)
    crm.pull(policy)
    assert crm.org.row("Lead", lead)["OwnerId"] == ann
    assert crm.get_person(mapped).owner_id == hub_ann


def test_a_rep_deactivated_since_the_last_pull_is_not_sent_as_owner(crm: CrmWorld) -> None:
    policy = owner_from_hub(crm.policy)
    ann = crm.org.add_user("ann@team.example", "Ann", "Rep")
    fay = crm.org.add_user("fay@team.example", "Fay", "Rep")
    hub_ann = hub_user(crm, "ann@team.example")
    hub_fay = hub_user(crm, "fay@team.example")
    ready(crm, policy)
    pid = crm.person(last_name="Move", email="mv@own.io", owner_id=hub_ann, company={"name": "O"})
    crm.push(policy)
    lead = crm.link("person", pid)["Lead"]
    assert crm.org.row("Lead", lead)["OwnerId"] == ann

    crm.org.update("User", fay, {"IsActive": False})  # the hub has not seen this yet
    crm.edit_person(pid, owner_id=hub_fay, title="CFO")
    asyncio.run(drain_outbox(crm.ctx(policy)))  # an owner change: users are read first
    # Salesforce never holds an inactive owner, and the rest of the change is not held back.
    row = crm.org.row("Lead", lead)
    assert row["OwnerId"] == ann and row["Title"] == "CFO"
    assert crm.errors() == []
    # The next sync reads the deactivation: the rest of the change goes, without the owner;
    # the lead keeps its (active) owner and the error is resolved.
    crm.push(policy)
    row = crm.org.row("Lead", lead)
    assert row["OwnerId"] == ann and row["Title"] == "CFO"
    assert crm.errors() == []
    assert crm.get_person(pid).owner_id == hub_fay  # the hub's choice stays the hub's


def test_records_of_a_rep_who_left_before_the_first_pull_map_to_that_hub_user(
    crm: CrmWorld,
) -> None:
    dan = crm.org.add_user("dan@team.example", "Dan", "Gone")
    lead = crm.org.create(
        "Lead", {"LastName": "Old", "Company": "Old Co", "Email": "old@old.co", "OwnerId": dan}
    ).id
    crm.org.update("User", dan, {"IsActive": False})
    hub_dan = hub_user(crm, "dan@team.example")
    ready(crm)
    pid = _person_of(crm, "Lead", lead)
    assert pid is not None
    assert crm.get_person(pid).owner_id == hub_dan


def test_policy_check_warns_that_owner_from_the_hub_is_a_known_disaster(crm: CrmWorld) -> None:
    policy = owner_from_hub(crm.policy)
    report = lint_of(crm, policy)
    warnings = "\n".join(report.warnings)
    for sobject in ("Lead", "Contact", "Account"):
        assert f"{sobject}.OwnerId (the sales owner) is written hub→CRM" in warnings
    assert report.errors == []
    clean = lint_of(crm, crm.policy)
    assert not [w for w in clean.warnings if "OwnerId" in w]


# --- custom fields ------------------------------------------------------------------------------


def add_field_via_admin(crm: CrmWorld, sobject: str, name: str, kind: str) -> None:
    """As an admin does in Setup: the sandbox's admin surface, over the same HTTPS socket."""
    _, _, ca = crm.sandbox.tls_files()
    verify = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(base_url=crm.url, verify=verify, trust_env=False) as http:
        answer = http.post(f"/__admin__/fields/{sobject}/{name}", params={"kind": kind})
        assert answer.status_code == 200, answer.text


def custom_policy(crm: CrmWorld) -> CrmSync:
    data = crm.policy.model_dump()
    data["custom_fields"] = [
        {"name": "score", "object": "person"},
        {"name": "tier", "object": "person"},
        {"name": "segment", "object": "person"},
        {"name": "region", "object": "company"},
    ]
    policy = CrmSync.model_validate(data)
    return with_fields(
        policy,
        lead=[
            {"hub": "custom.score", "crm": "Score__c", "direction": "hub_to_crm"},
            {"hub": "custom.tier", "crm": "Tier__c", "direction": "crm_to_hub"},
            {"hub": "custom.segment", "crm": "Segment__c", "direction": "hub_to_crm"},
        ],
        account=[{"hub": "custom.region", "crm": "Region__c", "direction": "crm_to_hub"}],
    )


def custom_org(crm: CrmWorld) -> None:
    add_field_via_admin(crm, "Lead", "Score__c", "double")
    crm.org.add_custom_field(
        "Lead", "Tier__c", "picklist", picklist=("Gold", "Silver", "Bronze"), restricted=True
    )
    crm.org.add_custom_field("Lead", "Segment__c", "string", length=20)
    crm.org.add_custom_field("Account", "Region__c", "string", length=40)


def test_custom_fields_flow_both_ways_under_their_direction(crm: CrmWorld) -> None:
    custom_org(crm)
    policy = custom_policy(crm)
    assert lint_of(crm, policy).errors == []
    account = crm.org.create(
        "Account", {"Name": "Region Co", "Website": "region.co", "Region__c": "EMEA"}
    ).id
    ready(crm, policy)
    # A CRM-owned custom field of an account lands in the company's custom column.
    company_id = _person_of(crm, "Account", account)
    assert company_id is not None
    assert (company_row(crm, company_id).custom or {}).get("region") == "EMEA"

    pid = crm.person(
        last_name="Custom",
        email="cu@stom.io",
        company={"name": "Stom", "domain": "stom.io"},
        **{"custom.score": 87, "custom.segment": "Mid-market"},
    )
    crm.push(policy)
    lead = crm.link("person", pid)["Lead"]
    row = crm.org.row("Lead", lead)
    assert row["Score__c"] == 87 and row["Segment__c"] == "Mid-market"
    assert row["Tier__c"] is None

    # A rep sets the CRM-owned tier: it flows into the hub's custom column, beside the rest.
    crm.org.bump("Lead", lead, {"Tier__c": "Gold", "Score__c": 5}, crm.org.integration_user)
    crm.pull(policy)
    person = crm.get_person(pid)
    assert person.custom == {"score": 87, "segment": "Mid-market", "tier": "Gold"}
    # The hub owns the score: the rep's edit was put back.
    assert crm.org.row("Lead", lead)["Score__c"] == 87

    # A hub edit of a custom field goes through the outbox.
    crm.edit_person(pid, **{"custom.score": 91})
    ctx = crm.ctx(policy)
    report = asyncio.run(drain_outbox(ctx))
    assert report is not None and report.counts == {"leads_updated": 1}
    row = crm.org.row("Lead", lead)
    assert row["Score__c"] == 91 and row["Tier__c"] == "Gold"
    assert asyncio.run(drain_outbox(ctx)) is None
    # A hub edit of the CRM-owned field is not pushed over the CRM's value: the hub takes the
    # CRM's value back at once, and the CRM's next change of it flows in.
    crm.edit_person(pid, **{"custom.tier": "Bronze"})
    report = asyncio.run(drain_outbox(crm.ctx(policy)))
    assert report is not None and report.counts.get("hub_updated") == 1
    assert crm.org.row("Lead", lead)["Tier__c"] == "Gold"
    assert (crm.get_person(pid).custom or {})["tier"] == "Gold"
    crm.org.bump("Lead", lead, {"Tier__c": "Silver"}, crm.org.integration_user)
    crm.pull(policy)
    assert crm.get_person(pid).custom == {"score": 91, "segment": "Mid-market", "tier": "Silver"}
    assert crm.org.row("Lead", lead)["Score__c"] == 91
    assert crm.errors() == []


def test_policy_check_refuses_a_custom_field_the_org_does_not_have(crm: CrmWorld) -> None:
    crm.org.add_custom_field("Lead", "Score__c", "double")
    data = crm.policy.model_dump()
    data["custom_fields"] = [{"name": "score"}, {"name": "tier"}]
    policy = with_fields(
        CrmSync.model_validate(data),
        lead=[
            {"hub": "custom.score", "crm": "Score__c", "direction": "hub_to_crm"},
            {"hub": "custom.tier", "crm": "Tier__c", "direction": "crm_to_hub"},
        ],
    )
    report = lint_of(crm, policy)
    (missing,) = [e for e in report.errors if "Tier__c" in e]
    assert missing.startswith("Lead.Tier__c does not exist in this org: create the custom field")
    assert not [e for e in report.errors if "Score__c" in e]
    # Names are matched exactly (the mirror keys values by the describe's spelling).
    typo = with_fields(
        policy,
        lead=[
            {"crm": "Score__c"},
            {"crm": "Tier__c"},
            {"hub": "custom.score", "crm": "score__C", "direction": "hub_to_crm"},
        ],
    )
    report = lint_of(crm, typo)
    assert report.errors == ["Lead.score__C does not exist in this org (did you mean Score__c?)"]


def test_a_custom_value_the_describe_rejects_is_caught_before_sending(crm: CrmWorld) -> None:
    custom_org(crm)
    data = custom_policy(crm).model_dump()
    data["custom_fields"].append({"name": "plan"})
    crm.org.add_custom_field(
        "Lead", "Plan__c", "picklist", picklist=("Free", "Pro"), restricted=True
    )
    policy = with_fields(
        CrmSync.model_validate(data),
        lead=[{"hub": "custom.plan", "crm": "Plan__c", "direction": "hub_to_crm"}],
    )
    ready(crm, policy)
    long = crm.person(
        last_name="Long", email="lo@ng.io", company={"name": "Ng"}, **{"custom.segment": "x" * 21}
    )
    bad = crm.person(
        last_name="Bad", email="ba@d.io", company={"name": "D"}, **{"custom.plan": "Enterprise"}
    )
    fine = crm.person(
        last_name="Fine", email="fi@ne.io", company={"name": "Ne"}, **{"custom.plan": "Pro"}
    )
    ctx = crm.ctx(policy)
    from leadbridge.engine.sync.push import push

    report = asyncio.run(push(ctx))
    assert report.counts.get("failed") == 2
    assert {r["Email"]: r["Plan__c"] for r in crm.rows("Lead")} == {"fi@ne.io": "Pro"}
    by_person = {e.hub_id: e for e in crm.errors() if e.hub_object == "person"}
    assert set(by_person) == {long, bad}
    assert by_person[long].field == "Segment__c" and "Segment__c" in by_person[long].message
    assert "at most 20" in by_person[long].message
    assert by_person[bad].field == "Plan__c" and "Free, Pro" in (by_person[bad].hint or "")
    # Caught before sending: the only lead create that went out carried the valid record.
    creates = [r for r in ctx.connector.calls.by_route if r.startswith("POST")]
    assert creates and crm.link("person", fine)


def test_a_custom_number_held_as_text_in_the_hub_is_not_rewritten_every_sync(
    crm: CrmWorld,
) -> None:
    custom_org(crm)
    policy = custom_policy(crm)
    ready(crm, policy)
    pid = crm.person(  # as a CSV import leaves it: the score is text
        last_name="Text", email="te@xt.io", company={"name": "Xt"}, **{"custom.score": "87"}
    )
    crm.push(policy)
    lead = crm.link("person", pid)["Lead"]
    assert crm.org.row("Lead", lead)["Score__c"] == 87
    ctx = crm.ctx(policy)
    from leadbridge.engine.sync.pull import pull
    from leadbridge.engine.sync.push import push

    async def cycles() -> None:
        for _ in range(2):
            await pull(ctx)
            await push(ctx)

    asyncio.run(cycles())
    sent = ctx.connector.calls.by_route
    assert not [r for r in sent if r.startswith(("PATCH", "POST"))], sent  # 87.0 is "87"
    assert crm.get_person(pid).custom == {"score": "87"}
