"""`leadbridge demo`: the whole product against local sandboxes, in under a minute, then the
dashboard.

A fresh hub in a temporary directory (the demo never touches your own hub) and three sandboxes
on loopback ports. Each act runs the commands a RevOps engineer would type, in this process, and
prints them with their answers: the lead push to Apollo (demo_apollo.py); the two-way sync with
Salesforce, with the duplicate audit, the dry-run plan, edits both ways, `explain` and `undo`
(demo_crm.py); a deletion in the org pulled, the duplicate guard and a hub merge
(demo_lifecycle.py); deals and the activity push (demo_deals.py); HubSpot as a second CRM on the
same hub (demo_hubspot.py); the web app's accounts, tokens, REST API and metrics over a real
socket (demo_web.py); `migrate-hub` to PostgreSQL when one answers on loopback (demo_scale.py).
Then, unless --no-serve, the dashboard with the scheduler until Ctrl+C.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from rich.console import Console

from leadbridge.demo_apollo import ApolloDemo, run_apollo_demo
from leadbridge.demo_crm import CrmDemo, run_crm_demo
from leadbridge.demo_deals import DealsDemo, run_deals_demo
from leadbridge.demo_hubspot import HubSpotDemo, run_hubspot_demo
from leadbridge.demo_lifecycle import LifecycleDemo, run_lifecycle_demo
from leadbridge.demo_scale import ScaleDemo, run_scale_demo
from leadbridge.demo_tour import Tour
from leadbridge.demo_web import WebDemo, make_account, serve_dashboard, use_the_api
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.policy.loader import load_policy
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp
from leadbridge.secrets import SecretBox
from leadbridge.secrets.keys import create_key_file


@dataclass
class DemoResult:
    apollo: ApolloDemo
    crm: CrmDemo
    lifecycle: LifecycleDemo
    deals: DealsDemo
    hubspot: HubSpotDemo
    web: WebDemo
    scale: ScaleDemo
    seconds: float
    workdir: Path


def sf_record(sandbox: SalesforceSandbox, email: str) -> str | None:
    for sobject in ("Contact", "Lead"):
        for row in sandbox.org.rows(sobject):
            if row.get("Email") == email and not row.get("IsDeleted"):
                return f"{sobject} {row['Id']}"
    return None


def act(console: Console, title: str) -> None:
    console.rule(f"[bold]{title}[/bold]", align="left")


def run_demo(
    companies: int = 1000,
    seed: int = 7,
    console: Console | None = None,
    *,
    serve: bool = False,
    port: int = 8765,
) -> DemoResult:
    from leadbridge.sandbox.apollo import ApolloSandbox
    from leadbridge.sandbox.hubspot import HubSpotSandbox

    console = console or Console()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="leadbridge-demo-"))
    database = f"sqlite:///{workdir / 'hub.db'}"
    key = Fernet.generate_key()
    hub = Hub.open(database)
    connections = Connections(hub, SecretBox(key))
    # The key file `leadbridge init` would write, where the commands look for it (the working
    # directory), so the hub stays usable after the demo without a key on any command line.
    create_key_file(workdir / ".leadbridge.key", [key])
    # The environment names the demo's hub and key, whatever the user's shell has set.
    env = {"LEADBRIDGE_DATABASE_URL": database, "LEADBRIDGE_SECRET_KEY": key.decode()}
    tour = Tour(console, workdir, env)

    apollo = ApolloSandbox(seed=seed)
    apollo.knobs.set_rate_limits(minute=100_000, hour=1_000_000, day=10_000_000)
    salesforce = SalesforceSandbox(seed=seed)
    hubspot = HubSpotSandbox(seed=seed)
    cert, tls_key, ca = salesforce.tls_files()
    try:
        with (
            ServedApp(apollo.app) as apollo_served,
            ServedApp(salesforce.app, ssl_certfile=cert, ssl_keyfile=tls_key) as sf_served,
            ServedApp(hubspot.app) as hubspot_served,
        ):
            salesforce.set_base_url(sf_served.url)
            hubspot.set_base_url(hubspot_served.url)
            console.print(
                f"hub in {workdir}; sandboxes: Apollo {apollo_served.url}, Salesforce "
                f"{sf_served.url}, HubSpot {hubspot_served.url}",
                soft_wrap=True,
            )
            act(console, "Lead push to Apollo")
            apollo_demo = run_apollo_demo(hub, apollo, apollo_served.url, tour, companies, seed)
            act(console, "Two-way sync with Salesforce")
            crm = run_crm_demo(hub, connections, salesforce, sf_served.url, ca, tour, seed)
            act(console, "Deletions, merges and the duplicate guard")
            lifecycle = run_lifecycle_demo(hub, salesforce, tour)
            act(console, "Deals and activities")
            deals = run_deals_demo(hub, salesforce, tour)
            act(console, "HubSpot, a second CRM on the same hub")
            hs = run_hubspot_demo(hubspot, hubspot_served.url, tour, seed)
            act(console, "The web app and the REST API")
            policy = load_policy(workdir / "leadbridge.yaml")
            password, token = make_account(tour)
            web = use_the_api(
                connections, policy, tour, token, lambda email: sf_record(salesforce, email)
            )
            tour.run("status", lines=16)
            act(console, "Scale-out: PostgreSQL and workers")
            scale = run_scale_demo(tour, database)
            seconds = time.monotonic() - started
            console.print(f"[bold]Demo took {seconds:.1f} s.[/bold]")
            result = DemoResult(
                apollo_demo, crm, lifecycle, deals, hs, web, scale, seconds, workdir
            )
            if serve:
                serve_dashboard(connections, policy, console, port, password)
            else:
                console.print(
                    f"Try it yourself: cd {workdir} && LEADBRIDGE_DATABASE_URL={database} "
                    "leadbridge status (the sandboxes stop with the demo).",
                    soft_wrap=True,
                )
    finally:
        salesforce.close()
        hub.dispose()
    return result
