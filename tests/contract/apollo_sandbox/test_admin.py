"""The Apollo sandbox's admin surface (/__admin__/): everything the tests do in-process, over
HTTP, checked against what the emulated API then answers and what the team holds."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from leadbridge.sandbox.apollo import ApolloSandbox

from .conftest import Clock, Served


def test_seed_users_and_accounts_then_read_them_through_the_api(
    served: Served, api: httpx.Client
) -> None:
    with served.bare() as admin:
        seeded = admin.post("/__admin__/seed", json={"users": 3, "accounts": 12, "seed": 4})
        assert seeded.status_code == 201
        body = seeded.json()
        assert len(body["users"]) == 3 and len(body["accounts"]) == 12
        team = admin.get("/__admin__/team").json()
        assert team["team_id"] == served.sandbox.team_id and team["admin"]["email"]
        assert len(admin.get("/__admin__/accounts").json()) == 12
    listed = api.get("users/search", params={"per_page": 100}).json()["users"]
    assert {u["id"] for u in body["users"]} <= {u["id"] for u in listed}
    searched = api.post("accounts/search", json={"per_page": 100}).json()
    assert searched["pagination"]["total_entries"] == 12


def test_users_added_and_deactivated_over_http_decide_who_may_own(
    served: Served, api: httpx.Client
) -> None:
    with served.bare() as admin:
        rep = admin.post(
            "/__admin__/users", json={"email": "ann@team.example", "first_name": "Ann"}
        ).json()
        assert api.post("accounts", json={"name": "A", "owner_id": rep["id"]}).status_code == 200
        gone = admin.delete(f"/__admin__/users/{rep['id']}")
        assert gone.status_code == 200 and gone.json()["deleted"] is True
        refused = api.post("accounts", json={"name": "B", "owner_id": rep["id"]})
        assert refused.status_code == 422  # a deleted user owns nothing new
        back = admin.patch(f"/__admin__/users/{rep['id']}", json={"deleted": False})
        assert back.json()["deleted"] is False
        assert api.post("accounts", json={"name": "C", "owner_id": rep["id"]}).status_code == 200
        assert admin.delete("/__admin__/users/ffffffffffffffffffffffff").status_code == 404
        for bad in ({"first_name": "No email"}, {"email": 5}, {"email": "x@y.z", "deleted": "no"}):
            assert admin.post("/__admin__/users", json=bad).status_code == 400
    assert len(served.sandbox.users()) == 2  # the admin and Ann


def test_accounts_added_over_http_are_adopted_by_dedupe(served: Served, api: httpx.Client) -> None:
    with served.bare() as admin:
        one = admin.post("/__admin__/accounts", json={"name": "Acme", "domain": "www.acme.com"})
        assert one.status_code == 201 and one.json()["account"]["domain"] == "acme.com"
        many = admin.post(
            "/__admin__/accounts", json={"accounts": [{"name": "Beta"}, {"name": "Gamma"}]}
        )
        assert [a["name"] for a in many.json()["accounts"]] == ["Beta", "Gamma"]
        bad = admin.post("/__admin__/accounts", json={"accounts": [{"name": "Ok"}, "nope"]})
        assert bad.status_code == 400  # nothing of the batch is made
    r = api.post(
        "accounts/bulk_create",
        json={"accounts": [{"name": "Acme Inc", "domain": "acme.com"}], "run_dedupe": True},
    )
    assert [a["id"] for a in r.json()["existing_accounts"]] == [one.json()["account"]["id"]]
    assert len(served.sandbox.accounts()) == 3


def test_knobs_and_queued_faults_over_http(served: Served, api: httpx.Client) -> None:
    knobs = served.sandbox.knobs
    with served.bare() as admin:
        for bad in ({"latency": "slow"}, {"limits": {"week": 3}}, {"nope": 1}, {"per_page_max": 0}):
            assert admin.post("/__admin__/knobs", json=bad).status_code == 400
        assert knobs.latency == 0.0
        set_ = admin.post("/__admin__/knobs", json={"error_rate_5xx": 1.0}).json()
        assert set_["error_rate_5xx"] == 1.0
        assert api.get("auth/health").status_code == 500
        admin.post("/__admin__/knobs", json={"error_rate_5xx": 0})

        admin.post("/__admin__/faults", json={"fail_next": {"count": 2, "status": 503}})
        assert [api.get("auth/health").status_code for _ in range(3)] == [503, 503, 200]
        admin.post("/__admin__/faults", json={"burst_429": {"count": 1, "retry_after": 7}})
        limited = api.get("auth/health")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
        admin.post("/__admin__/faults", json={"garbage_next": {"count": 5}})
        assert api.get("auth/health").text.startswith("<html>")
        assert admin.delete("/__admin__/faults").status_code == 200
        assert api.get("auth/health").json() == {"healthy": True, "is_logged_in": True}
        assert (
            admin.post("/__admin__/faults", json={"fail_next": {"status": 99}}).status_code == 400
        )

        admin.post("/__admin__/knobs", json={"limits": {"minute": 1, "hour": None, "day": None}})
        assert admin.get("/__admin__/knobs").json()["limits"]["minute"] == 1
        assert api.get("auth/health").status_code == 429  # this minute's calls are spent
        moved = admin.post("/__admin__/clock", json={"advance": 61})
        assert moved.json()["now"] == 1_700_000_061.0
        assert api.get("auth/health").status_code == 200  # a new minute window
        assert api.get("auth/health").status_code == 429
        assert admin.get("/__admin__/calls").json()["GET /api/v1/auth/health"] >= 8


def test_keys_apps_and_fields_over_http(served: Served) -> None:
    with served.bare() as admin:
        scoped = admin.post(
            "/__admin__/api_keys", json={"master": False, "scopes": ["api/v1/accounts/search"]}
        ).json()["api_key"]
        app = admin.post("/__admin__/oauth_apps", json={"redirect_uris": ["https://x.example/cb"]})
        assert app.status_code == 201 and set(app.json()) == {"client_id", "client_secret"}
        field = admin.post("/__admin__/custom_fields", json={"name": "Segment"}).json()
        assert field["modality"] == "account" and field["name"] == "Segment"
    with served.client(scoped) as scoped_api:
        assert scoped_api.post("accounts/search", json={}).status_code == 200
        assert scoped_api.post("accounts", json={"name": "A"}).status_code == 403
        fields = scoped_api.get("typed_custom_fields")
        assert fields.status_code == 403  # not in the key's scope
    assert any(f["name"] == "Segment" for f in served.sandbox.state.custom_fields)


def test_holds_stop_a_request_until_released(served: Served, api: httpx.Client) -> None:
    out: list[Any] = []
    with served.bare() as admin:
        admin.post(
            "/__admin__/holds",
            json={"method": "POST", "path": "/accounts/bulk_create$", "when": "before"},
        )
        thread = threading.Thread(
            target=lambda: out.append(
                api.post("accounts/bulk_create", json={"accounts": [{"name": "Held"}]})
            ),
            daemon=True,
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not admin.get("/__admin__/held").json():
            assert time.monotonic() < deadline, "nothing was held"
            time.sleep(0.02)
        assert admin.post("/__admin__/release", json={"drop": True}).json() == {"released": 1}
        thread.join(10)
    assert out[0].status_code == 503 and served.sandbox.accounts() == []


def test_json_nested_past_rails_limit_is_a_400(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    deep = b'{"accounts": ' + b"[" * 200 + b"]" * 200 + b"}"
    headers = {"content-type": "application/json"}
    r = api.post("accounts/bulk_create", content=deep, headers=headers)
    assert r.status_code == 400 and "nesting" in r.json()["error"]
    r = api.post("accounts", content=b"[" * 100_000 + b"]" * 100_000, headers=headers)
    assert r.status_code == 400
    fine = b'{"name": "Fine", "typed_custom_fields": {"x": ' + b"[" * 50 + b"]" * 50 + b"}}"
    assert api.post("accounts", content=fine, headers=headers).status_code == 200
    assert [a["name"] for a in sandbox.accounts()] == ["Fine"]


def test_the_clock_fixture_and_the_admin_clock_agree(served: Served, clock: Clock) -> None:
    with served.bare() as admin:
        admin.post("/__admin__/clock", json={"advance": 10})
        clock.advance(5)
        assert served.sandbox.clock() == 1_700_000_015.0
        assert admin.post("/__admin__/clock", json={"advance": -1}).status_code == 400
