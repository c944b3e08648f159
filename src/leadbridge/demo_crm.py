"""The Salesforce act of `leadbridge demo`: a Salesforce sandbox (HTTPS, its own CA) seeded with a
realistic org (accounts, contacts, leads, converted leads and duplicates), connected through the
OAuth web-server flow with PKCE (the demo clicks "Allow" on the sandbox's consent page for you);
then the tour a RevOps engineer would take, as CLI commands: import the hub's people, the first
pull, the duplicate audit, the dry-run plan, the push; an edit in the hub pushed, an edit in
Salesforce pulled, `explain`, `undo` of a run, the error log.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import random
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from leadbridge.connectors.salesforce.oauth import exchange_code
from leadbridge.demo_tour import Tour, run_id
from leadbridge.engine.status import hub_status
from leadbridge.engine.systems.salesforce import connect_salesforce
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.sandbox import fakes
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.salesforce.seed import SeedReport, seed_org

REDIRECT = "http://127.0.0.1:8765/connections/callback"  # the dashboard's, for a reconnect


@dataclass
class CrmDemo:
    seeded: SeedReport
    in_sync: int
    failing: int
    duplicates: int
    leads_before: int
    leads_after: int
    edited: str  # the person edited in the hub, then in Salesforce, then undone
    title_pushed: str | None  # Salesforce's title after the hub's edit was pushed
    title_after_undo: str | None  # ...and after `undo` of that push
    status_pulled: str | None  # the hub's lead status after Salesforce's edit was pulled
    campaign_members: int  # Salesforce CampaignMembers after the push to a campaign


def consent(sandbox: SalesforceSandbox, url: str, ca: Path, redirect: str) -> dict[str, Any]:
    """The web-server flow as a browser would go through it: the consent page's form posted
    with "allow", the code taken from the redirect, redeemed with the PKCE verifier."""
    client_id, secret = sandbox.register_connected_app([redirect])
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    with httpx.Client(
        base_url=url, verify=ssl.create_default_context(cafile=str(ca)), trust_env=False
    ) as http:
        back = http.post(
            "/services/oauth2/authorize",
            data={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect,
                "code_challenge": challenge.rstrip(b"=").decode(),
                "state": state,
                "decision": "allow",
            },
        )
    params = httpx.URL(back.headers["location"]).params
    if params.get("state") != state:
        raise RuntimeError("the sandbox's redirect carried another state")
    return {"code": params["code"], "client_id": client_id, "secret": secret, "verifier": verifier}


def write_people(path: Path, org_people: list[dict[str, Any]], seed: int, count: int) -> None:
    """The hub's own people file: new people at a few companies, and some the org already has
    (same e-mail, a newer title: the hub owns titles, so the push updates them)."""
    rng = random.Random(seed)
    header = ["email", "email_status", "first_name", "last_name", "title", "company"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow([*header, "company_domain"])
        for company in fakes.companies(max(1, count // 8), seed + 1):
            for p in fakes.people(rng.randint(4, 12), company.domain, seed + len(company.domain)):
                title = rng.choice(TITLES)
                row = [p.email, "verified", p.first_name, p.last_name, title, company.name]
                out.writerow([*row, company.domain])
        for known in org_people[: count // 4]:
            title = "Head of " + rng.choice(("Sales", "Data", "Ops"))
            names = [known.get("FirstName") or "", known.get("LastName") or ""]
            out.writerow([known["Email"], "verified", *names, title, known.get("Company"), ""])


TITLES = ("CTO", "VP Sales", "Buyer", "Head of Data", "Analyst", "Founder", "RevOps Lead")
POLICY = "version: 1\nsyncs:\n  salesforce:\n    connection: salesforce\n"


async def connect(
    hub: Hub, connections: Connections, sandbox: SalesforceSandbox, url: str, ca: Path
) -> None:
    granted = consent(sandbox, url, ca, REDIRECT)
    body = await exchange_code(
        url,
        granted["client_id"],
        granted["secret"],
        granted["code"],
        REDIRECT,
        granted["verifier"],
        verify=ssl.create_default_context(cafile=str(ca)),
    )
    connect_salesforce(
        hub,
        connections,
        name="salesforce",
        login_url=url,
        token_body=body,
        client_id=granted["client_id"],
        client_secret=granted["secret"],
        ca_file=str(ca),
        setup_window_hours=0,  # the demo's policy is the default one: no setup needed
    )


def run_crm_demo(
    hub: Hub,
    connections: Connections,
    sandbox: SalesforceSandbox,
    url: str,
    ca: Path,
    tour: Tour,
    seed: int,
    people: int = 240,
) -> CrmDemo:
    org = sandbox.org
    seeded = seed_org(org, accounts=40, contacts_per_account=3, leads=120, seed=seed)
    tour.note(
        f"a Salesforce org: {seeded.accounts} accounts, {seeded.contacts} contacts, "
        f"{seeded.leads} leads ({seeded.converted} converted, {seeded.duplicates} duplicates)"
    )
    import asyncio

    asyncio.run(connect(hub, connections, sandbox, url, ca))
    tour.note("connected with OAuth and PKCE: the demo clicked Allow on the sandbox's consent page")
    org_leads = [r for r in org.rows("Lead") if not r.get("IsDeleted") and r.get("Email")]
    write_people(tour.workdir / "people.csv", org_leads, seed, people)
    (tour.workdir / "leadbridge.yaml").write_text(POLICY, encoding="utf-8")
    tour.note("the hub's own people: new ones, and some the org has as leads, with newer titles")
    tour.run("import", "people", "people.csv", lines=2)
    tour.run("pull", lines=4)
    tour.run("audit", "--sync", "salesforce", lines=10)
    tour.run("plan", "salesforce", "--show", "3", lines=8)
    tour.run("push", lines=3)

    known = org_leads[0]
    email = str(known["Email"])
    tour.note(f"a rep changes {email}'s title in the hub; the next push sends only that")
    tour.run("edit", "person", email, "title=VP Revenue", lines=2)
    edit_run = run_id(tour.run("push", lines=2))
    title_pushed = (org.row("Lead", known["Id"]) or {}).get("Title")
    tour.note(
        f"Salesforce's Lead now says {title_pushed!r}; a rep works the lead there (its status is "
        "the CRM's to own)"
    )
    org.update("Lead", known["Id"], {"Status": "Working - Contacted"})
    tour.run("pull", lines=2)
    tour.run("explain", email, lines=8)
    tour.run("undo", str(edit_run), lines=3)
    title_after_undo = (org.row("Lead", known["Id"]) or {}).get("Title")
    tour.note(f"Salesforce's title is back to {title_after_undo!r}")
    tour.run("errors", lines=5)
    org.create("Campaign", {"Name": "Spring Webinar", "IsActive": True})
    tour.note("marketing made a campaign in Salesforce; the rep tags the person and adds them")
    tour.run("edit", "person", email, "--tag", "webinar", lines=1)
    tour.run("push", email, "--campaign", "Spring Webinar", lines=2)
    members = sum(1 for _ in org.rows("CampaignMember"))

    status = hub_status(hub)
    (crm,) = status.crm
    return CrmDemo(
        seeded=seeded,
        in_sync=crm.people.in_sync,
        failing=crm.people.failing,
        duplicates=status.potential_duplicates["people"],
        leads_before=seeded.leads,
        leads_after=sum(1 for r in org.rows("Lead") if not r.get("IsDeleted")),
        edited=email,
        title_pushed=title_pushed,
        title_after_undo=title_after_undo,
        status_pulled=_hub_lead_status(hub, email),
        campaign_members=members,
    )


def _hub_lead_status(hub: Hub, email: str) -> str | None:
    from sqlalchemy import select

    from leadbridge.hub.tables import Person

    with hub.session() as s:
        return s.scalar(select(Person.lead_status).where(Person.email == email))
