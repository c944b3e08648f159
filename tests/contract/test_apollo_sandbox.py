"""The Apollo sandbox against the reference (shared/reference/hubspot-and-apollo-api.md, part B):
exact bodies, status codes, headers, windows, OAuth rotation. Real sockets, plain httpx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from leadbridge.sandbox.apollo import ApolloSandbox
from leadbridge.sandbox.server import ServedApp


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sb(clock: Clock) -> ApolloSandbox:
    return ApolloSandbox(seed=2, clock=clock)


@pytest.fixture
def api(sb: ApolloSandbox) -> Iterator[httpx.Client]:
    with ServedApp(sb.app) as served:
        key = sb.issue_api_key(master=True)
        with httpx.Client(base_url=served.url + "/api/v1/", headers={"x-api-key": key}) as c:
            yield c


def test_bad_key_is_401_plain_text_without_rate_headers(api: httpx.Client) -> None:
    r = api.get("users/search", headers={"x-api-key": "nope"})
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/plain")
    assert r.text == (
        "Invalid API key. See https://docs.apollo.io/reference/authentication "
        "for how to authenticate."
    )
    assert not any(h.startswith("x-minute") for h in r.headers)


def test_scoped_key_without_the_route_is_403_api_inaccessible(
    sb: ApolloSandbox, api: httpx.Client
) -> None:
    key = sb.issue_api_key(master=False, scopes=["api/v1/accounts/create"])
    assert api.post("accounts", json={"name": "A"}, headers={"x-api-key": key}).status_code == 200
    r = api.get("users/search", headers={"x-api-key": key})  # needs a master key
    assert r.status_code == 403 and r.json()["error_code"] == "API_INACCESSIBLE"
    assert "api/v1/users/search" in r.json()["error"]


def test_users_search_pages_with_string_page_numbers(sb: ApolloSandbox, api: httpx.Client) -> None:
    for i in range(4):
        sb.add_user(email=f"u{i}@t.example", first_name="U", last_name=str(i))
    body = api.get("users/search", params={"page": 2, "per_page": 2}).json()
    assert body["pagination"] == {
        "page": "2",
        "per_page": "2",
        "total_entries": 5,
        "total_pages": 3,
    }
    assert len(body["users"]) == 2 and set(body["users"][0]) >= {
        "id",
        "team_id",
        "email",
        "deleted",
    }


def test_create_never_dedupes_and_validates(sb: ApolloSandbox, api: httpx.Client) -> None:
    a = api.post("accounts", json={"name": "Acme", "domain": "https://www.Acme.com/"}).json()[
        "account"
    ]
    b = api.post("accounts", json={"name": "Acme", "domain": "acme.com"}).json()["account"]
    assert a["id"] != b["id"] and a["domain"] == b["domain"] == "acme.com"
    assert a["source"] == "api" and a["team_id"] == sb.team_id and len(a["id"]) == 24
    r = api.post("accounts", json={"phone": "1"})
    assert (r.status_code, r.json()) == (
        422,
        {"error": "Please specify at least a name or domain."},
    )
    r = api.post("accounts", json={"name": "X", "owner_id": "0" * 24})
    assert r.status_code == 422 and "owner_id" in r.json()["error"]
    r = api.patch("accounts/" + "f" * 24, json={"name": "Y"})
    assert r.json() == {"error": "Parameters misconfigured. account_id is not a valid ID"}


def test_bulk_create_dedupe_modes(sb: ApolloSandbox, api: httpx.Client) -> None:
    old = sb.add_account(name="Old", domain="old.com", salesforce_id="001A")
    r = api.post(
        "accounts/bulk_create",
        json={
            "accounts": [
                {"name": "New", "domain": "old.com"},
                {"name": "Crm", "salesforce_id": "001A"},
            ]
        },
    )
    body = r.json()
    assert [a["domain"] for a in body["created_accounts"]] == ["old.com"]  # no domain dedupe
    assert [a["id"] for a in body["existing_accounts"]] == [old["id"]]  # CRM ids always match
    body = api.post(
        "accounts/bulk_create",
        json={
            "run_dedupe": True,
            "accounts": [
                {"name": "Renamed", "domain": "old.com"},
                {"name": "Fresh", "domain": "fresh.io"},
                {"name": "Fresh again", "domain": "fresh.io"},
            ],
        },
    ).json()
    assert body["existing_accounts"][0]["name"] in ("Old", "New")  # returned unmodified
    assert [a["domain"] for a in body["created_accounts"]] == ["fresh.io"]
    assert body["existing_accounts"][1]["domain"] == "fresh.io"  # second of the request
    r = api.post("accounts/bulk_create", json={"accounts": [{"name": str(i)} for i in range(101)]})
    assert r.json() == {"error": "Please limit your array to 100 accounts or fewer."}
    r = api.post("accounts/bulk_create", json={})
    assert r.status_code == 422 and '"accounts" parameter' in r.json()["error"]


def test_bulk_update_and_update_owners(sb: ApolloSandbox, api: httpx.Client) -> None:
    rep = sb.add_user(email="r@t.example", first_name="R", last_name="Ep")
    acc = sb.add_account(name="A", domain="a.com")
    body = api.post(
        "accounts/bulk_update",
        json={"account_attributes": [{"id": acc["id"], "name": "A2", "owner_id": rep["id"]}]},
    ).json()
    assert body["accounts"][0]["name"] == "A2" and body["accounts"][0]["owner_id"] == rep["id"]
    r = api.post("accounts/bulk_update", json={"account_ids": [acc["id"]] * 1001, "name": "x"})
    assert r.json() == {"error": "Please limit your array to fewer than 1000."}
    r = api.post(
        "accounts/bulk_update", json={"account_attributes": [{"id": acc["id"]}], "async": True}
    )
    assert r.json() == {"error": "Async processing is not permitted."}
    r = api.post(
        "accounts/update_owners",
        params={"account_ids[]": acc["id"], "owner_id": sb.state.admin["id"]},
    )
    assert r.json() == {
        "accounts": [{"id": acc["id"], "owner_id": sb.state.admin["id"], "crm_owner_id": None}]
    }
    assert api.post("accounts/update_owners").json() == {
        "error": "Required parameter 'account_ids' missing"
    }


def test_search_pages_and_rejects_bad_sorts(sb: ApolloSandbox, api: httpx.Client) -> None:
    for i in range(7):
        sb.add_account(name=f"Acme {i}", domain=f"acme{i}.com")
    sb.add_account(name="Other", domain="other.com")
    body = api.post(
        "accounts/search",
        json={
            "q_organization_name": "acme",
            "per_page": 3,
            "page": 3,
            "sort_by_field": "account_created_at",
            "sort_ascending": True,
        },
    ).json()
    assert body["pagination"] == {"page": 3, "per_page": 3, "total_entries": 7, "total_pages": 3}
    assert [a["name"] for a in body["accounts"]] == ["Acme 6"]
    r = api.post("accounts/search", json={"sort_by_field": "name"})
    assert r.json() == {"error": "Invalid sort criteria", "skip_alert_dialog": True}


def test_rate_windows_headers_429_and_reset(
    sb: ApolloSandbox, api: httpx.Client, clock: Clock
) -> None:
    sb.knobs.set_rate_limits(minute=3, hour=5, day=None)
    for left in (2, 1, 0):
        r = api.get("account_stages")
        assert r.headers["x-minute-requests-left"] == str(left)
        assert r.headers["x-rate-limit-minute"] == "3" and r.headers["x-rate-limit-24-hour"] == ""
    r = api.get("account_stages")
    assert r.status_code == 429 and "3 times per minute" in r.json()["message"]
    assert r.headers["retry-after"] == "60"
    assert api.get("typed_custom_fields").status_code == 200  # windows are per endpoint
    clock.now += 61
    assert api.get("account_stages").status_code == 200
    assert api.get("account_stages").status_code == 200
    r = api.get("account_stages")
    assert r.status_code == 429 and "per hour" in r.json()["message"]


def test_oauth_code_flow_rotation_and_expiry(sb: ApolloSandbox, clock: Clock) -> None:
    redirect = "https://app.example/callback"
    client_id, secret = sb.register_oauth_app([redirect], scopes=["account_read", "users_list"])
    with ServedApp(sb.app) as served, httpx.Client(base_url=served.url) as http:
        page = http.get(
            "/oauth/authorize",
            params={
                "client_id": client_id,
                "redirect_uri": redirect,
                "response_type": "code",
                "state": "xyz",
            },
        )
        assert page.status_code == 200 and "Approve" in page.text
        bad = http.get(
            "/oauth/authorize", params={"client_id": client_id, "redirect_uri": "https://evil"}
        )
        assert bad.status_code == 400
        back = http.post(
            "/oauth/authorize",
            data={"client_id": client_id, "redirect_uri": redirect, "state": "xyz"},
        )
        location = httpx.URL(back.headers["location"])
        assert back.status_code == 302 and location.params["state"] == "xyz"
        form: dict[str, Any] = {
            "grant_type": "authorization_code",
            "code": location.params["code"],
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uri": redirect,
        }
        tokens = http.post("/api/v1/oauth/token", data=form).json()
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 30 * 24 * 3600
        assert (
            http.post("/api/v1/oauth/token", data=form).status_code == 400
        )  # codes are single-use
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get("/api/v1/users/search", headers=auth).status_code == 200
        r = http.post("/api/v1/accounts", headers=auth, json={"name": "A"})
        assert r.status_code == 403  # account_write was not granted
        refresh = {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client_id,
            "client_secret": secret,
        }
        new = http.post("/api/v1/oauth/token", data=refresh).json()
        assert (
            http.get("/api/v1/users/search", headers=auth).json()["error_code"]
            == "INVALID_ACCESS_TOKEN"
        )
        assert http.post("/api/v1/oauth/token", data=refresh).json()["error"] == "invalid_grant"
        new_auth = {"Authorization": f"Bearer {new['access_token']}"}
        assert http.get("/api/v1/users/search", headers=new_auth).status_code == 200
        clock.now += 30 * 24 * 3600 + 1
        assert http.get("/api/v1/users/search", headers=new_auth).status_code == 401


def test_fault_knobs(sb: ApolloSandbox, api: httpx.Client) -> None:
    sb.knobs.fail_after_commit = True
    sb.knobs.error_rate_5xx = 1.0
    r = api.post("accounts/bulk_create", json={"accounts": [{"name": "Lost", "domain": "lost.io"}]})
    assert r.status_code == 500
    assert [a["domain"] for a in sb.accounts()] == ["lost.io"]  # applied, answer lost
    sb.knobs.error_rate_5xx = 0.0
    sb.knobs.garbage_next(1)
    r = api.get("account_stages")
    assert r.status_code == 200 and r.text.startswith("<html>")
    sb.knobs.burst_429(1, retry_after=4)
    r = api.get("account_stages")
    assert (r.status_code, r.headers["retry-after"]) == (429, "4")
    assert api.get("account_stages").status_code == 200


def test_health_profile_and_v1_alias(sb: ApolloSandbox, api: httpx.Client) -> None:
    assert api.get("auth/health").json() == {"healthy": True, "is_logged_in": True}
    assert api.get("users/api_profile").json()["team_id"] == sb.team_id
    legacy = httpx.get(
        str(api.base_url).replace("/api/v1/", "/v1/") + "account_stages",
        headers={"x-api-key": api.headers["x-api-key"]},
    )
    assert legacy.status_code == 200 and len(legacy.json()["account_stages"]) == 11
