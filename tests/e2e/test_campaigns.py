"""Push to a campaign on both CRMs (Salesforce CampaignMember, HubSpot static list): the
sync's people in scope join once; a campaign the CRM does not have, or a user without the
permission to add members, is one clear entry in the error log and writes nothing."""

from __future__ import annotations

from leadbridge.policy.crm import CrmSync, PolicyFile

from .crm_twins import Twin
from .test_crm_both import ready


def with_campaign(twin: Twin, campaign: str) -> CrmSync:
    sync = twin.policy.model_dump(mode="json", exclude={"objects"})
    sync["scope"] = {"tags": ["webinar"]}
    sync["campaign"] = campaign
    return PolicyFile.model_validate({"syncs": {"s": sync}}).sync("s")


def test_people_in_scope_join_the_campaign_once(twin: Twin) -> None:
    ready(twin)
    campaign = twin.make_campaign("Webinar 2026")
    company = twin.company(name="Camp", domain="camp.io")
    ada = twin.person(last_name="Ada", email="ada@camp.io", tags=["webinar"], company=company)
    twin.person(last_name="Bob", email="bob@camp.io", company=company)  # outside the scope
    policy = with_campaign(twin, "Webinar 2026")

    report = twin.push(policy)
    assert report.counts.get("campaign_added") == 1
    (_, ada_id) = twin.person_link(ada)
    assert twin.campaign_members(campaign) == [ada_id]

    # Again, and with Ada a member already in the CRM though the hub forgot it: still once.
    twin.push(policy)
    assert twin.campaign_members(campaign) == [ada_id]
    from leadbridge.hub.tables import CampaignMember

    with twin.hub.session() as s:
        s.query(CampaignMember).delete()
    report = twin.push(policy)
    assert report.counts.get("campaign_already") == 1 and "campaign_added" not in report.counts
    assert twin.campaign_members(campaign) == [ada_id]
    assert not twin.errors()


def test_a_missing_campaign_or_permission_is_a_clear_error_and_writes_nothing(
    twin: Twin,
) -> None:
    ready(twin)
    company = twin.company(name="Camp", domain="camp.io")
    ada = twin.person(last_name="Ada", email="ada@camp.io", tags=["webinar"], company=company)

    report = twin.push(with_campaign(twin, "No Such Campaign"))
    assert twin.person_link(ada)  # the person went; the campaign did not
    assert report.counts.get("campaign_failed") == 1
    (error,) = twin.errors()
    assert "'No Such Campaign' does not exist" in error.message
    assert error.hint and "create" in error.hint

    campaign = twin.make_campaign("Webinar 2026")
    twin.deny_campaign_members()
    report = twin.push(with_campaign(twin, "Webinar 2026"))
    assert report.counts.get("campaign_failed") == 1
    denied = [e for e in twin.errors() if "Webinar 2026" in e.message]
    assert len(denied) == 1 and "not allowed to add members" in denied[0].message
    assert denied[0].error_class == "access_denied"
    assert twin.campaign_members(campaign) == []

    twin.deny_campaign_members(False)
    report = twin.push(with_campaign(twin, "Webinar 2026"))
    assert report.counts.get("campaign_added") == 1
    assert twin.campaign_members(campaign) == [twin.person_link(ada)[1]]
    assert not [e for e in twin.errors() if "Webinar 2026" in e.message]
