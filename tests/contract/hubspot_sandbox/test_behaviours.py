"""The sandbox's limits, refusals, OAuth, webhooks and faults, over a real socket; each test
checks what the portal holds as well as what the caller heard."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI, Request
from hubspot.utils.signature import Signature

from leadbridge.sandbox.hubspot.webhooks import sign_v1, sign_v2, sign_v3
from leadbridge.sandbox.server import ServedApp

from .conftest import ServedPortal

VECTORS = (
    Path(__file__).resolve().parents[2] / "data" / "hubspot-recorded" / "signature-vectors.json"
)


def test_search_cap_limit_and_offset(portal: ServedPortal) -> None:
    with portal.http() as http:
        capped = http.post("/crm/v3/objects/contacts/search", json={"after": 9_950, "limit": 100})
        assert capped.status_code == 400 and capped.json()["category"] == "VALIDATION_ERROR"
        assert http.post("/crm/v3/objects/contacts/search", json={"limit": 201}).status_code == 400
        portal.sandbox.knobs.search_per_second = 5
        time.sleep(1.1)  # the refused searches above counted too
        codes = [
            http.post("/crm/v3/objects/contacts/search", json={}).status_code for _ in range(8)
        ]
    assert codes.count(429) >= 3 and codes[:5] == [200] * 5


def test_batch_207_and_whole_call_failures(portal: ServedPortal) -> None:
    kept = portal.sandbox.console.create("contacts", {"email": "kept@x.example"})
    with portal.http() as http:
        read = http.post(
            "/crm/v3/objects/contacts/batch/read",
            json={"inputs": [{"id": kept.id}, {"id": "99999"}], "properties": []},
        )
        assert read.status_code == 207
        assert read.json()["errors"][0]["context"]["ids"] == ["99999"]
        bad = [{"properties": {"email": "ok@x.example"}}, {"properties": {"email": "nope"}}]
        whole = http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": bad})
        assert whole.status_code == 400
        assert portal.sandbox.find("contacts", "ok@x.example", "email") is None  # nothing landed
        traced = [dict(i, objectWriteTraceId=str(n)) for n, i in enumerate(bad)]
        partial = http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": traced})
        assert partial.status_code == 207 and partial.json()["numErrors"] == 1
        assert portal.sandbox.find("contacts", "ok@x.example", "email") is not None
        too_many = [{"properties": {"email": f"{n}@x.example"}} for n in range(101)]
        assert http.post("/crm/v3/objects/contacts/batch/create",
                         json={"inputs": too_many}).status_code == 400  # fmt: skip
        dup = http.post(
            "/crm/v3/objects/contacts/batch/create",
            json={"inputs": [{"properties": {"email": "KEPT@x.example"}}]},
        )
        assert dup.status_code == 409 and dup.json()["message"].endswith(f"Existing ID: {kept.id}")
    assert portal.sandbox.count("contacts") == 2


def test_rate_limit_headers_and_429(portal: ServedPortal) -> None:
    portal.sandbox.knobs.set_tier("enterprise")
    with portal.http() as http:
        first = http.get("/crm/v3/objects/contacts")
        assert first.headers["x-hubspot-ratelimit-max"] == "190"
        assert first.headers["x-hubspot-ratelimit-daily"] == "1000000"
        assert first.headers["x-hubspot-ratelimit-remaining"] == "189"
        search = http.post("/crm/v3/objects/contacts/search", json={})
        assert "x-hubspot-ratelimit-max" not in search.headers
        assert "x-hubspot-ratelimit-daily-remaining" in search.headers
        portal.sandbox.knobs.burst_limit = 3
        codes = [http.get("/crm/v3/objects/contacts").status_code for _ in range(4)]
        refused = http.get("/crm/v3/objects/contacts")
        assert (
            codes == [200, 200, 429, 429] and refused.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        )
        assert "category" not in refused.json()
        portal.sandbox.knobs.burst_limit, portal.sandbox.knobs.daily_limit = 1_000, 3
        daily = http.get("/crm/v3/objects/contacts")
        assert daily.status_code == 429 and daily.json()["policyName"] == "DAILY"


def test_scopes_and_authentication(portal: ServedPortal) -> None:
    contacts_only = portal.sandbox.issue_private_app_token(["crm.objects.contacts.read"])
    with portal.http(portal.sandbox.issue_private_app_token([])) as none:
        gate = none.get("/crm/v3/objects/companies/1")
        assert gate.status_code == 403 and gate.json()["category"] == "MISSING_SCOPES"
        assert not [h for h in gate.headers if h.startswith("x-hubspot-ratelimit")]
    with portal.http(contacts_only) as http:
        assert http.get("/crm/v3/objects/contacts").status_code == 200
        denied = http.post("/crm/v3/objects/contacts", json={"properties": {"email": "a@b.co"}})
        assert denied.status_code == 403
        assert denied.json()["errors"][0]["context"]["requiredGranularScopes"] == [
            "crm.objects.contacts.write"
        ]
    assert portal.sandbox.count("contacts") == 0
    with portal.http("") as anonymous:
        assert (
            anonymous.get("/crm/v3/objects/contacts").json()["category"] == "INVALID_AUTHENTICATION"
        )


def test_oauth_code_refresh_and_expiry(portal: ServedPortal) -> None:
    redirect = "http://127.0.0.1:9/callback"
    client_id, secret = portal.sandbox.register_oauth_app([redirect])
    scope = "oauth crm.objects.contacts.read"
    with portal.http("") as http:
        query = {"client_id": client_id, "redirect_uri": redirect, "scope": scope, "state": "s1"}
        page = http.get("/oauth/authorize", params=query)
        assert page.status_code == 200 and "crm.objects.contacts.read" in page.text
        granted = http.post("/oauth/authorize", data={**query, "decision": "grant"})
        back = parse_qs(urlsplit(granted.headers["location"]).query)
        assert back["state"] == ["s1"]
        form = {"grant_type": "authorization_code", "client_id": client_id, "client_secret": secret,
                "redirect_uri": redirect, "code": back["code"][0]}  # fmt: skip
        tokens = http.post("/oauth/v1/token", data=form).json()
        assert tokens["expires_in"] == 1800 and tokens["token_type"] == "bearer"
        reused = http.post("/oauth/v1/token", data=form)
        assert reused.status_code == 400 and reused.json()["status"] == "BAD_AUTH_CODE"
    with portal.http(tokens["access_token"]) as api:
        ok = api.get("/crm/v3/objects/contacts")
        assert ok.status_code == 200 and "x-hubspot-ratelimit-daily" not in ok.headers
        assert api.post("/crm/v3/objects/contacts", json={"properties": {}}).status_code == 403
        portal.sandbox.expire_tokens()
        expired = api.get("/crm/v3/objects/contacts")
        assert expired.status_code == 401 and expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    with portal.http("") as http:
        refreshed = http.post("/oauth/v1/token", data={
            "grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
            "refresh_token": tokens["refresh_token"]}).json()  # fmt: skip
    assert refreshed["refresh_token"] == tokens["refresh_token"]
    with portal.http(refreshed["access_token"]) as api:
        assert api.get("/crm/v3/objects/contacts").status_code == 200


def test_webhook_signatures_match_hubspots_vectors() -> None:
    for v in json.loads(VECTORS.read_text())["vectors"]:
        secret, method, uri, body = v["client_secret"], v["method"], v["uri"], v["body"]
        if v["version"] == "v1":
            mine = sign_v1(secret, body)
        elif v["version"] == "v2":
            mine = sign_v2(secret, method, uri, body)
        else:
            mine = sign_v3(secret, method, uri, body, v["timestamp"])
        assert mine == v["expected_signature"], v


def test_webhooks_deliver_signed_events(portal: ServedPortal) -> None:
    received: list[dict[str, Any]] = []
    done = threading.Event()
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        received.append({"headers": dict(request.headers), "body": (await request.body()).decode()})
        done.set()
        return {}

    with ServedApp(receiver) as target:
        app_id = portal.sandbox.app_id_of(portal.token)
        secret = portal.sandbox.set_webhooks(f"{target.url}/hook", app_id)
        portal.sandbox.subscribe("contact.propertyChange", "lastname")
        with portal.http() as http:
            made = http.post(
                "/crm/v3/objects/contacts", json={"properties": {"email": "w@h.example"}}
            )
            http.patch(f"/crm/v3/objects/contacts/{made.json()['id']}",
                       json={"properties": {"lastname": "Hook"}})  # fmt: skip
        assert done.wait(10) and portal.sandbox.webhooks.flush()
    delivery = received[0]
    events = json.loads(delivery["body"])
    assert [(e["subscriptionType"], e["propertyValue"]) for e in events] == [
        ("contact.propertyChange", "Hook")
    ]
    assert Signature.is_valid(
        signature=delivery["headers"]["x-hubspot-signature-v3"],
        client_secret=secret,
        request_body=delivery["body"],
        http_uri=f"{target.url}/hook",
        http_method="POST",
        signature_version="v3",
        timestamp=int(delivery["headers"]["x-hubspot-request-timestamp"]),
    )


def test_faults_before_and_after_a_write_lands(portal: ServedPortal) -> None:
    knobs = portal.sandbox.knobs
    with portal.http() as http:
        knobs.fail_next(1, 503)
        before = http.post(
            "/crm/v3/objects/contacts", json={"properties": {"email": "f1@x.example"}}
        )
        assert before.status_code == 503
        assert portal.sandbox.find("contacts", "f1@x.example", "email") is None
        knobs.error_after_commit_rate = 1.0
        after = http.post(
            "/crm/v3/objects/contacts", json={"properties": {"email": "f2@x.example"}}
        )
        assert after.status_code == 502
        assert portal.sandbox.find("contacts", "f2@x.example", "email") is not None  # it landed
        knobs.error_after_commit_rate = 0.0
        knobs.burst_429(2)
        assert [http.get("/crm/v3/objects/contacts").status_code for _ in range(3)] == [
            429,
            429,
            200,
        ]


def test_user_merge_and_gdpr_delete(portal: ServedPortal) -> None:
    console = portal.sandbox.console
    a = console.create("companies", {"name": "Acme", "domain": "acme.com"})
    b = console.create("companies", {"name": "Acme Inc", "domain": "acme.com"})
    person = console.create("contacts", {"email": "p@acme.com"})
    console.associate("contacts", person.id, "companies", b.id, 1)
    merged = console.merge("companies", a.id, b.id)
    held = portal.sandbox.record("companies", merged.id)
    assert (
        held["properties"]["name"] == "Acme" and held["properties"]["hs_object_source"] == "CRM_UI"
    )
    assert (
        portal.sandbox.record("contacts", person.id)["properties"]["associatedcompanyid"]
        == merged.id
    )
    with portal.http() as http:
        assert http.get(f"/crm/v3/objects/companies/{b.id}").json()["id"] == merged.id
        gone = http.post("/crm/v3/objects/contacts/gdpr-delete", json={"objectId": person.id})
        assert gone.status_code == 204
        assert http.get(f"/crm/v3/objects/contacts/{person.id}?archived=true").status_code == 404
    assert portal.sandbox.count("contacts") == portal.sandbox.count("contacts", archived=True) == 0


def test_admin_surface_seeds_and_edits_as_a_user(portal: ServedPortal) -> None:
    with portal.http("") as admin:
        report = admin.post("/__admin__/seed", json={"companies": 20, "deals": 5}).json()
        assert report["companies"] == 20 and report["contacts"] == 60
        contact_id = portal.sandbox.objects("contacts")[0]["id"]
        owner = portal.sandbox.owners(archived=False)[1]
        change = {"properties": {"lastname": "Edited"}, "user": owner["id"]}
        edited = admin.patch(f"/__admin__/objects/contacts/{contact_id}", json=change)
        assert edited.status_code == 200
        assert (
            admin.post("/__admin__/knobs", json={"tier": "enterprise"}).json()["burst_limit"] == 190
        )
    held = portal.sandbox.record("contacts", contact_id)
    assert held["properties"]["lastname"] == "Edited"
    assert held["properties"]["hs_updated_by_user_id"] == str(owner["userIdIncludingInactive"])
    assert held["propertiesWithHistory"]["lastname"][0]["sourceType"] == "CRM_UI"
