"""Per-endpoint minute/hour/day windows: headers, 429 bodies, retry-after, resets, usage."""

from __future__ import annotations

import httpx

from leadbridge.sandbox.apollo import ApolloSandbox

from .conftest import Clock, Served

UPGRADE = "Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."


def test_headers_count_down_then_429_names_the_window(
    sandbox: ApolloSandbox, api: httpx.Client, clock: Clock
) -> None:
    sandbox.knobs.set_rate_limits(minute=3, hour=5, day=None)
    for used in (1, 2, 3):
        r = api.post("accounts", json={"name": f"A{used}"})
        assert r.status_code == 200
        assert r.headers["x-rate-limit-minute"] == "3" and r.headers["x-rate-limit-hourly"] == "5"
        assert r.headers["x-minute-usage"] == str(used)
        assert r.headers["x-minute-requests-left"] == str(3 - used)
        assert r.headers["x-hourly-requests-left"] == str(5 - used)
        assert r.headers["x-rate-limit-24-hour"] == ""  # unlimited: empty limit, no usage
        assert "x-24-hour-usage" not in r.headers
    clock.advance(20)
    r = api.post("accounts", json={"name": "refused"})
    assert r.status_code == 429
    assert r.json() == {
        "message": f"The maximum number of api calls allowed for api/v1/accounts is 3 times "
        f"per minute. {UPGRADE}"
    }
    assert r.headers["retry-after"] == "40"  # the minute window started 20 s ago
    assert r.headers["x-minute-requests-left"] == "0"
    assert len(sandbox.accounts()) == 3  # the refused create did not happen

    assert api.get("account_stages").status_code == 200  # windows are per endpoint

    clock.advance(40)  # the minute window resets; the hour window has 2 left
    assert api.post("accounts", json={"name": "A4"}).status_code == 200
    assert api.post("accounts", json={"name": "A5"}).status_code == 200
    r = api.post("accounts", json={"name": "refused"})
    assert r.json()["message"] == (
        "The maximum number of api calls allowed for api/v1/accounts is 5 times per hour. "
        + UPGRADE
    )
    assert r.headers["retry-after"] == str(3600 - 60)
    clock.advance(3600)
    assert api.post("accounts", json={"name": "A6"}).status_code == 200
    assert len(sandbox.accounts()) == 6


def test_the_daily_window_and_the_429_label_of_templated_paths(
    sandbox: ApolloSandbox, api: httpx.Client, clock: Clock
) -> None:
    account = sandbox.add_account(name="A")
    sandbox.knobs.set_rate_limits(minute=None, hour=None, day=2)
    for _ in range(2):
        assert api.patch(f"accounts/{account['id']}", json={"name": "B"}).status_code == 200
    clock.advance(7200)
    r = api.patch(f"accounts/{account['id']}", json={"name": "C"})
    assert r.status_code == 429
    assert r.json()["message"] == (
        "The maximum number of api calls allowed for api/v1/accounts/{account_id} is 2 times "
        f"per day. {UPGRADE}"
    )
    assert r.headers["retry-after"] == str(86400 - 7200)
    assert sandbox.accounts()[0]["name"] == "B"


def test_refused_calls_carry_no_rate_headers_and_use_no_quota(served: Served) -> None:
    served.sandbox.knobs.set_rate_limits(minute=1, hour=None, day=None)
    with served.client("wrong") as bad:
        for _ in range(3):
            assert bad.get("account_stages").status_code == 401
    with served.client() as api:
        r = api.get("account_stages")
    assert r.status_code == 200 and r.headers["x-minute-requests-left"] == "0"


def test_usage_stats_show_each_endpoints_windows(
    sandbox: ApolloSandbox, api: httpx.Client, clock: Clock
) -> None:
    sandbox.knobs.set_rate_limits(minute=200, hour=600, day=6000)
    for _ in range(3):
        api.post("accounts/search", json={})
    stats = api.post("usage_stats/api_usage_stats").json()
    assert stats['["api/v1/accounts", "search"]'] == {
        "day": {"limit": 6000, "consumed": 3, "left_over": 5997},
        "hour": {"limit": 600, "consumed": 3, "left_over": 597},
        "minute": {"limit": 200, "consumed": 3, "left_over": 197},
    }
    assert stats['["api/v1/accounts", "bulk_create"]']["minute"]["consumed"] == 0
    clock.advance(61)
    later = api.post("usage_stats/api_usage_stats").json()['["api/v1/accounts", "search"]']
    assert (later["minute"]["consumed"], later["hour"]["consumed"]) == (0, 3)
