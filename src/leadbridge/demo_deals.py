"""The demo's deals and activities act, on Salesforce: the policy file turns on the two-way deal
sync and the activity push (flood control: replies_only); `import deals` with a bad row,
`deals stages`, `deals sync --dry-run` (a stage the org does not have is refused), `deals sync`
(the Opportunity on its Account); `import activities` with a sequence send, `plan` (the send
skipped), `push` (Tasks, each once by Leadbridge's key field), `explain activity:ID`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from leadbridge.demo_tour import Tour, TourFailed
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Activity
from leadbridge.sandbox.salesforce import SalesforceSandbox

POLICY = """\
version: 1
syncs:
  salesforce:
    connection: salesforce
    deals:
      mode: two_way
    activities:
      enabled: true
      emails:
        mailbox_domains: [team.example]
        sequence: replies_only
        title_template: "Email: {subject}"
      calls: {title_template: "Call: {outcome}"}
"""
DEAL = "Renewal 2027"


@dataclass
class DealsDemo:
    refused_in_dry_run: bool
    opportunity: dict[str, Any] | None  # the Opportunity `deals sync` made
    account_id: str  # the Account it belongs on
    tasks: list[dict[str, Any]]  # the Tasks the activity push wrote
    sequence_skipped: bool  # `plan` said the sequence send is not pushed
    explained: str  # `explain activity:ID` of the call


def _contact(sandbox: SalesforceSandbox) -> tuple[dict[str, Any], str]:
    """An org contact with an account (pulled and linked by the first sync), and its domain."""
    for row in sandbox.org.rows("Contact"):
        if not row.get("IsDeleted") and row.get("AccountId") and row.get("Email"):
            account = sandbox.org.row("Account", str(row["AccountId"])) or {}
            website = str(account.get("Website") or "")
            if website:
                return row, website.split("//", 1)[-1].strip("/")
    raise TourFailed("the org has no contact at an account with a website")


def run_deals_demo(hub: Hub, sandbox: SalesforceSandbox, tour: Tour) -> DealsDemo:
    contact, domain = _contact(sandbox)
    email = str(contact["Email"]).lower()
    (tour.workdir / "leadbridge.yaml").write_text(POLICY, encoding="utf-8")
    tour.note("the policy file now syncs deals two ways and pushes activities (replies_only)")
    (tour.workdir / "deals.csv").write_text(
        "deal name,amount,currency,close date,stage,company domain,people\n"
        f"{DEAL},12500,USD,2027-01-31,Prospecting,{domain},{email}\n"
        f"Expansion,4000,USD,2027-02-28,Won-ish,{domain},\n"
        f"Pilot,abc,USD,2027-03-01,Prospecting,{domain},\n",
        encoding="utf-8",
    )
    tour.run("import", "deals", "deals.csv", lines=3, exit_code=1)  # the bad row is reported
    tour.run("deals", "stages", lines=4)
    planned = tour.run("deals", "sync", "--dry-run", lines=4)
    refused = "refused: stage 'Won-ish'" in planned
    tour.run("deals", "sync", lines=2)
    opportunity = next((r for r in sandbox.org.rows("Opportunity") if r.get("Name") == DEAL), None)
    account_id = str(contact["AccountId"])
    tour.note(f"Salesforce now holds the Opportunity {DEAL!r} on Account {account_id}")

    for sobject in ("Task", "Event"):  # the key field the admin adds once
        sandbox.org.add_custom_field(
            sobject, "Leadbridge_Activity_Id__c", length=64, external_id=True, unique=True
        )
    tour.note("the admin added Leadbridge_Activity_Id__c (External ID, Unique) to Task and Event")
    (tour.workdir / "activities.csv").write_text(
        "kind,id,email,date,subject,direction,sequence,sent_from_hub,from,to,outcome,duration\n"
        f"email,seq-1,{email},2026-11-02,Step 1,outgoing,yes,,rep@team.example,{email},,\n"
        f"email,mail-1,{email},2026-11-03,Proposal,outgoing,,yes,rep@team.example,{email},,\n"
        f"call,call-1,{email},2026-11-04,,,,,,,Connected,95\n",
        encoding="utf-8",
    )
    tour.run("import", "activities", "activities.csv", lines=2)
    planned = tour.run("plan", "salesforce", lines=0)
    tour.show_rows(planned, "activities")
    skipped = "a sequence send (activities.emails.sequence: replies_only)" in planned
    pushed = tour.run("push", "--sync", "salesforce", lines=0)
    tour.show_rows(pushed, "activity push")
    with hub.session() as s:
        call = s.scalar(select(Activity.id).where(Activity.source_id == "call-1"))
    explained = tour.run("explain", f"activity:{call}", lines=2)
    tasks = [r for r in sandbox.org.rows("Task") if r.get("Leadbridge_Activity_Id__c")]
    tour.note(f"Salesforce now holds {len(tasks)} Tasks from the hub: " + ", ".join(
        repr(t.get("Subject")) for t in tasks))  # fmt: skip
    return DealsDemo(refused, opportunity, account_id, tasks, skipped, explained)
