"""The two-way CRM sync half of `leadbridge demo`: a Salesforce sandbox (HTTPS, its own CA) seeded
with a realistic org (accounts, contacts, leads, converted leads and duplicates), connected
through the OAuth web-server flow with PKCE (the demo clicks "Allow" on the sandbox's consent
page for you), a people file imported into the hub (some of them people the org already has,
with a newer title), then the initial pull and a push, as `leadbridge pull` and `push` run them.
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
from leadbridge.engine.status import hub_status
from leadbridge.engine.sync.session import sync_context
from leadbridge.engine.systems.salesforce import connect_salesforce
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.people import import_people
from leadbridge.jobs.tasks import pull_task, push_task
from leadbridge.policy.crm import CrmSync
from leadbridge.sandbox import fakes
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.salesforce.seed import SeedReport, seed_org

REDIRECT = "http://127.0.0.1:8765/connections/callback"  # the dashboard's, for a reconnect


@dataclass
class CrmDemo:
    seeded: SeedReport
    imported: int
    pulled: dict[str, int]
    pushed: dict[str, int]
    in_sync: int
    failing: int
    duplicates: int
    leads_before: int
    leads_after: int


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


async def run_crm_demo(
    hub: Hub,
    connections: Connections,
    sandbox: SalesforceSandbox,
    url: str,
    ca: Path,
    workdir: Path,
    seed: int,
    people: int = 240,
) -> CrmDemo:
    seeded = seed_org(sandbox.org, accounts=40, contacts_per_account=3, leads=120, seed=seed)
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
    org_leads = [r for r in sandbox.org.rows("Lead") if not r.get("IsDeleted") and r.get("Email")]
    path = workdir / "people.csv"
    write_people(path, org_leads, seed, people)
    imported = import_people(hub, path)
    ctx = sync_context(hub, connections, CrmSync())
    try:
        ctx.save_state(setup_until=None)
        pulled = await pull_task(ctx, manual=True)
        pushed = await push_task(ctx)
    finally:
        await ctx.connector.aclose()
    (crm,) = hub_status(hub).crm
    return CrmDemo(
        seeded=seeded,
        imported=imported.created + imported.updated,
        pulled=dict(pulled.counts),
        pushed=dict(pushed.counts),
        in_sync=crm.people.in_sync,
        failing=crm.people.failing,
        duplicates=hub_status(hub).potential_duplicates["people"],
        leads_before=seeded.leads,
        leads_after=sum(1 for r in sandbox.org.rows("Lead") if not r.get("IsDeleted")),
    )


def crm_lines(result: CrmDemo) -> list[str]:
    s = result.seeded
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.pulled.items()) if v)
    pushed = ", ".join(f"{k} {v}" for k, v in sorted(result.pushed.items()) if v)
    return [
        f"Salesforce org seeded: {s.accounts} accounts, {s.contacts} contacts, {s.leads} leads "
        f"({s.converted} converted, {s.duplicates} duplicates); {result.imported} hub people "
        "imported",
        f"initial pull: {counts or 'nothing'}",
        f"push: {pushed or 'nothing to do'}",
        f"people in sync with Salesforce: {result.in_sync}, failing {result.failing}; potential "
        f"duplicates flagged (never merged): {result.duplicates}; leads in the org "
        f"{result.leads_before} -> {result.leads_after}",
    ]
