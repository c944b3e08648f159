"""The HubSpot act of `leadbridge demo`: a seeded HubSpot portal (owners, companies with their
contacts, the duplicates real portals have) joins the same hub as a second CRM: connected with a
private app's token (`leadbridge connect hubspot`), pulled, and pushed, so the people the hub
took from Salesforce and from its own file reach HubSpot too, each company as an association."""

from __future__ import annotations

from dataclasses import dataclass

from leadbridge.demo_tour import Tour
from leadbridge.sandbox.hubspot import HubSpotSandbox

POLICY = (
    "version: 1\nsyncs:\n"
    "  salesforce:\n    connection: salesforce\n"
    "  hubspot:\n    connection: hubspot\n"
)


@dataclass
class HubSpotDemo:
    companies_before: int
    contacts_before: int
    companies_after: int
    contacts_after: int
    associated: int  # contacts with a company association after the push


def run_hubspot_demo(sandbox: HubSpotSandbox, url: str, tour: Tour, seed: int) -> HubSpotDemo:
    sandbox.knobs.set_tier("enterprise")  # 190 calls per 10 s, as a paying portal has
    seeded = sandbox.seed(companies=25, contacts_per_company=3, deals=0, seed=seed)
    before = (sandbox.count("companies"), sandbox.count("contacts"))
    tour.note(
        f"a HubSpot portal: {before[0]} companies, {before[1]} contacts "
        f"({seeded.duplicate_contacts} duplicate contacts, {seeded.duplicate_companies} "
        "duplicate companies); the policy file now names both CRMs"
    )
    (tour.workdir / "leadbridge.yaml").write_text(POLICY, encoding="utf-8")
    token = sandbox.issue_private_app_token()
    tour.run(
        "connect", "hubspot", "--base-url", url, "--setup-hours", "0",
        shown=f"LEADBRIDGE_HUBSPOT_TOKEN=pat-… leadbridge connect hubspot --base-url {url} "
        "--setup-hours 0",
        env={"LEADBRIDGE_HUBSPOT_TOKEN": token},
        lines=2,
    )  # fmt: skip
    tour.run("pull", "--sync", "hubspot", lines=3)
    tour.run("push", "--sync", "hubspot", lines=3)
    contacts = sandbox.objects("contacts")
    associated = sum(1 for c in contacts if sandbox.associations("contacts", c["id"], "companies"))
    after = (sandbox.count("companies"), len(contacts))
    tour.note(
        f"the portal now holds {after[0]} companies and {after[1]} contacts, "
        f"{associated} of them associated with their company"
    )
    return HubSpotDemo(before[0], before[1], after[0], after[1], associated)
