"""API keys: 401 text/plain, scoped keys (403 API_INACCESSIBLE), bearer failures, old /v1 prefix."""

from __future__ import annotations

import httpx
import pytest

from leadbridge.sandbox.apollo import ApolloSandbox

from .conftest import Served

INVALID_KEY = (
    "Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate."
)


def no_rate_headers(response: httpx.Response) -> bool:
    return not any(
        name.startswith(("x-rate-limit", "x-minute", "x-hourly", "x-24"))
        for name in response.headers
    )


@pytest.mark.parametrize(
    "headers", [{"x-api-key": "not-a-key"}, {}, {"Authorization": "Basic eDp5"}]
)
def test_a_missing_or_bad_key_is_401_plain_text_without_rate_headers(
    served: Served, headers: dict[str, str]
) -> None:
    with served.bare() as http:
        r = http.post("/api/v1/accounts", json={"name": "Acme"}, headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == INVALID_KEY
    assert no_rate_headers(r)
    assert served.sandbox.accounts() == []


def test_the_key_header_name_is_case_insensitive(served: Served) -> None:
    with served.bare() as http:
        r = http.get("/api/v1/auth/health", headers={"X-Api-Key": served.key})
    assert (r.status_code, r.json()) == (200, {"healthy": True, "is_logged_in": True})


def test_a_scoped_key_reaches_its_routes_only(served: Served) -> None:
    key = served.sandbox.issue_api_key(master=False, scopes=["api/v1/accounts/create"])
    with served.client(key) as api:
        created = api.post("accounts", json={"name": "Acme"})
        refused = api.post("accounts/bulk_create", json={"accounts": [{"name": "B"}]})
        health = api.get("auth/health")
    assert created.status_code == 200
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "This API key is not authorized to access api/v1/accounts/bulk_create. Request "
        "an API key from your administrator that includes this endpoint in its configured scope.",
        "error_code": "API_INACCESSIBLE",
    }
    assert no_rate_headers(refused)
    assert health.status_code == 200  # any valid key may check itself
    assert served.sandbox.api_keys[key] == {
        "user_id": served.sandbox.state.admin["id"],
        "master": False,
        "scopes": ["api/v1/accounts/create"],
    }
    assert [a["name"] for a in served.sandbox.accounts()] == ["Acme"]


def test_master_only_endpoints_refuse_scoped_keys_even_when_listed(served: Served) -> None:
    key = served.sandbox.issue_api_key(
        master=False,
        scopes=["api/v1/users/search", "api/v1/usage_stats/api_usage_stats"],
    )
    with served.client(key) as api:
        users = api.get("users/search")
        usage = api.post("usage_stats/api_usage_stats")
    assert users.status_code == usage.status_code == 403
    assert users.json()["error_code"] == "API_INACCESSIBLE"
    assert "api/v1/users/search" in users.json()["error"]
    assert "api/v1/usage_stats/api_usage_stats" in usage.json()["error"]


def test_list_routes_are_named_like_apollos_scopes(served: Served) -> None:
    key = served.sandbox.issue_api_key(
        master=False,
        scopes=["api/v1/account_stages/index", "api/v1/typed_custom_fields/index"],
    )
    with served.client(key) as api:
        assert api.get("account_stages").status_code == 200
        assert api.get("typed_custom_fields").status_code == 200
        assert api.post("accounts/search", json={}).status_code == 403


def test_a_bad_bearer_token_is_401_invalid_access_token(served: Served) -> None:
    with served.bare() as http:
        r = http.get("/api/v1/auth/health", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json()["error_code"] == "INVALID_ACCESS_TOKEN"
    assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert no_rate_headers(r)


def test_api_profile_is_the_keys_user(served: Served, api: httpx.Client) -> None:
    admin = served.sandbox.state.admin
    assert api.get("users/api_profile").json() == {
        "id": admin["id"],
        "team_id": served.sandbox.team_id,
        "first_name": "Team",
        "last_name": "Admin",
        "title": "Admin",
        "email": "admin@sandbox-team.example",
    }


def test_the_old_v1_prefix_is_the_same_api(served: Served) -> None:
    with httpx.Client(base_url=served.url + "/v1/", headers={"x-api-key": served.key}) as old:
        created = old.post("accounts", json={"name": "Legacy", "domain": "legacy.io"})
        stages = old.get("account_stages")
    assert created.status_code == 200 and len(stages.json()["account_stages"]) == 11
    assert served.sandbox.calls["POST /api/v1/accounts"] == 1  # counted under one route name


def test_ids_are_object_ids_and_timestamps_iso_with_ms(served: Served, api: httpx.Client) -> None:
    account = api.post("accounts", json={"name": "Acme"}).json()["account"]
    assert len(account["id"]) == 24 and int(account["id"], 16) >= 0
    assert account["created_at"] == "2023-11-14T22:13:20.000Z"  # the fake clock's instant
    assert len(served.sandbox.team_id) == 24


def test_same_seed_same_clock_same_ids() -> None:
    one, two = ApolloSandbox(seed=3, clock=lambda: 1.0), ApolloSandbox(seed=3, clock=lambda: 1.0)
    assert one.team_id == two.team_id
    assert one.add_account(name="A")["id"] == two.add_account(name="A")["id"]
    assert ApolloSandbox(seed=4, clock=lambda: 1.0).team_id != one.team_id


def test_the_clock_can_be_swapped_at_run_time(served: Served, api: httpx.Client) -> None:
    served.sandbox.clock = lambda: 1_800_000_000.5
    account = api.post("accounts", json={"name": "Later"}).json()["account"]
    assert account["created_at"] == "2027-01-15T08:00:00.500Z"
