"""The HubSpot sandbox: a faithful local emulator of HubSpot's CRM APIs (reference:
shared/reference/hubspot-and-apollo-api.md part A; tested against shared/data/hubspot-recorded).

    sb = HubSpotSandbox(seed=1)                     # or HubSpotSandbox(seed=1, clock=fake_clock)
    token = sb.issue_private_app_token()            # all scopes; or scopes=[...]
    client_id, secret = sb.register_oauth_app(["http://127.0.0.1:8767/callback"])
    with ServedApp(sb.app) as served:               # plain HTTP on loopback
        sb.set_base_url(served.url)                 # Location headers and paging links
        hubspot.Client.create(access_token=token, host=served.url)

What the portal holds, in process (every call takes the portal lock):
    sb.objects("contacts")                  every live record, all properties (archived=True too)
    sb.record("contacts", id)               one record: all properties, history, associations
    sb.count("companies")                   live records of a type
    sb.find("contacts", "a@b.com", "email") a record by idProperty (None when absent)
    sb.associations("contacts", id, "companies")   [(company id, [type ids])]
    sb.owners(); sb.add_owner(email, first, last, archived=False)
    sb.make_list(name); sb.list_members(list_id)   static lists (lists_api.py)
    sb.calls                                API calls by route ("POST /crm/v3/objects/...": n)
As a HubSpot user would (stamped CRM_UI with the user, not INTEGRATION):
    sb.console.create / update / archive / restore / merge / gdpr_delete / associate
    sb.seed(companies=1000, contacts_per_company=5, deals=200)      a realistic portal
Knobs: sb.knobs.latency, error_rate_5xx, error_after_commit_rate, burst_429(n), fail_next(n),
    set_tier("free" | "starter" | "professional" | "enterprise"), daily_limit, search_lag,
    access_token_ttl, expire_tokens_every; sb.expire_tokens(). Webhooks: sb.set_webhooks(url,
    app_id), sb.subscribe("contact.propertyChange", "email"), sb.webhooks.flush(),
    sb.webhooks.deliveries. Holds: sb.holds (see sandbox/holds.py).
Over HTTP the same lives under /__admin__/: GET /portal, /objects/{type}[/{id}], /calls,
    /knobs; POST /objects/{type}, PATCH|DELETE /objects/{type}/{id}, POST .../restore,
    /merge/{type}, /gdpr-delete/{type}/{id}, /associations, /owners, /seed, /knobs,
    /expire-tokens; PUT /webhooks, POST|GET /webhooks/subscriptions, GET /webhooks/deliveries;
    /holds, /held, /release.

`leadbridge sandbox hubspot --port N` serves one in the foreground (`run`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from leadbridge.sandbox.holds import Holds
from leadbridge.sandbox.hubspot.admin import Console
from leadbridge.sandbox.hubspot.app import build_app
from leadbridge.sandbox.hubspot.guard import Context
from leadbridge.sandbox.hubspot.knobs import TIERS, HubSpotKnobs
from leadbridge.sandbox.hubspot.objects import object_type
from leadbridge.sandbox.hubspot.portal import Portal
from leadbridge.sandbox.hubspot.render import record_json
from leadbridge.sandbox.hubspot.seed import SeedReport, seed_portal
from leadbridge.sandbox.hubspot.webhooks import Webhooks

__all__ = ["TIERS", "HubSpotKnobs", "HubSpotSandbox", "SeedReport", "run"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class HubSpotSandbox:
    def __init__(self, seed: int = 1, clock: Callable[[], float] = time.time) -> None:
        self.knobs = HubSpotKnobs()
        self.portal = Portal(seed=seed, clock=clock)
        self.ctx = Context(self.portal, self.knobs)
        self.console = Console(self.ctx)
        self.webhooks = Webhooks(self.portal.portal_id, self.knobs)
        self.portal.listeners.append(self.webhooks)
        self.holds = Holds()
        self.app: FastAPI = build_app(self.ctx, self.console, self.webhooks, self.holds)

    @property
    def portal_id(self) -> int:
        return self.portal.portal_id

    @property
    def calls(self) -> Counter[str]:
        return self.ctx.calls

    def set_private_app_scope(self, scope: str, granted: bool) -> None:
        """An admin edits every private app's scopes: `scope` given or taken away."""
        with self.portal.lock:
            for app in self.ctx.credentials.private.values():
                app.scopes = app.scopes | {scope} if granted else app.scopes - {scope}

    def make_list(self, name: str, processing: str = "MANUAL", object_type: str = "0-1") -> str:
        """A list made as a HubSpot user would (static by default); its id."""
        with self.portal.lock:
            made = self.portal.lists.create(name, object_type, processing, self.portal.now_ms())
            return str(made["listId"])

    def list_members(self, list_id: str) -> list[str]:
        with self.portal.lock:
            return list(self.portal.lists.members.get(list_id, []))

    def set_base_url(self, url: str) -> None:
        self.ctx.base_url = url.rstrip("/")

    # --- credentials -----------------------------------------------------------------------------

    def issue_private_app_token(self, scopes: list[str] | None = None) -> str:
        with self.portal.lock:
            return self.ctx.credentials.issue_private_token(scopes)

    def app_id_of(self, token_or_client_id: str) -> str:
        with self.portal.lock:
            creds = self.ctx.credentials
            if token_or_client_id in creds.private:
                return creds.private[token_or_client_id].app_id
            return creds.apps[token_or_client_id].app_id

    def register_oauth_app(
        self, redirect_uris: list[str], scopes: list[str] | None = None
    ) -> tuple[str, str]:
        """(client_id, client_secret); without scopes the app may ask for any known one."""
        with self.portal.lock:
            return self.ctx.credentials.register_app(redirect_uris, scopes)

    def expire_tokens(self) -> int:
        with self.portal.lock:
            return self.ctx.credentials.expire_all(self.portal.clock())

    # --- what the portal holds -------------------------------------------------------------------

    def objects(self, type_name: str, archived: bool = False) -> list[dict[str, Any]]:
        kind = object_type(type_name)
        with self.portal.lock:
            return [
                record_json(self.portal, r, None)
                for r in self.portal.records[kind.name].values()
                if r.archived == archived
            ]

    def record(self, type_name: str, record_id: str) -> dict[str, Any]:
        return self.console.view(type_name, record_id)

    def count(self, type_name: str, archived: bool = False) -> int:
        with self.portal.lock:
            return self.portal.count(object_type(type_name).name, archived)

    def find(self, type_name: str, value: str, id_property: str | None = None) -> dict | None:
        kind = object_type(type_name)
        with self.portal.lock:
            found = self.portal.find(kind, value, id_property)
            return record_json(self.portal, found, None) if found else None

    def associations(
        self, type_name: str, record_id: str, target: str
    ) -> list[tuple[str, list[int]]]:
        with self.portal.lock:
            return self.portal.associations.targets(
                object_type(type_name).name, record_id, object_type(target).name
            )

    def owners(self, archived: bool | None = None) -> list[dict[str, Any]]:
        with self.portal.lock:
            return [
                dict(o)
                for o in self.portal.owners.values()
                if archived is None or o["archived"] == archived
            ]

    def add_owner(
        self, email: str, first_name: str = "", last_name: str = "", archived: bool = False
    ) -> dict[str, Any]:
        with self.portal.lock:
            return dict(self.portal.add_owner(email, first_name, last_name, archived))

    def seed(self, **sizes: Any) -> SeedReport:
        return seed_portal(self.console, **sizes)

    # --- webhooks -------------------------------------------------------------------------------

    def set_webhooks(self, target_url: str, app_id: str) -> str:
        """Deliver to `target_url`, signed with the app's client secret (returned)."""
        with self.portal.lock:
            secret = self.ctx.credentials.secret_of(app_id)
        if secret is None:
            raise ValueError(f"no app {app_id}")
        self.webhooks.configure(target_url, app_id, secret)
        return secret

    def subscribe(self, event_type: str, property_name: str | None = None) -> dict[str, Any]:
        return self.webhooks.subscribe(event_type, property_name, self.portal.now_ms())


def run(
    port: int,
    host: str = "127.0.0.1",
    seed: int = 1,
    companies: int = 0,
    tier: str = "free",
    redirect_uri: str = "http://127.0.0.1:8768/callback",
) -> None:
    """Serve a sandbox in the foreground; print its base URL and a private-app token at once."""
    import uvicorn

    if host not in LOOPBACK:
        raise ValueError("the HubSpot sandbox only listens on a loopback address")
    sandbox = HubSpotSandbox(seed=seed)
    sandbox.knobs.set_tier(tier)
    base = f"http://{host}:{port}"
    sandbox.set_base_url(base)
    if companies:
        report = sandbox.seed(companies=companies, deals=companies // 5)
        print(f"  seeded: {report}", flush=True)
    else:
        sandbox.add_owner("admin@portal.example", "Portal", "Admin")
    token = sandbox.issue_private_app_token()
    client_id, secret = sandbox.register_oauth_app([redirect_uri])
    print(f"HubSpot sandbox on {base}  (portal {sandbox.portal_id}, tier {tier})", flush=True)
    print(f"  private app token: {token}", flush=True)
    print(f"  OAuth app: client_id={client_id} client_secret={secret}", flush=True)
    print(f"             redirect_uri={redirect_uri}", flush=True)
    print(f"             authorize at {base}/oauth/authorize", flush=True)
    uvicorn.run(sandbox.app, host=host, port=port, log_level="warning")
