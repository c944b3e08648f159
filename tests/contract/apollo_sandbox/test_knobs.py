"""Fault knobs: 5xx before or after the commit, garbage bodies, injected answers, 429 bursts."""

from __future__ import annotations

import time

import httpx

from leadbridge.sandbox.apollo import ApolloSandbox

CREATING = {"error": "An error occurred while creating accounts. Please try again."}


def test_a_5xx_before_the_commit_writes_nothing(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    sandbox.knobs.error_rate_5xx = 1.0
    r = api.post("accounts/bulk_create", json={"accounts": [{"name": "Lost", "domain": "lost.io"}]})
    assert (r.status_code, r.json()) == (500, CREATING)
    assert r.headers["x-minute-requests-left"]  # it passed auth and took a rate slot
    assert sandbox.accounts() == []


def test_fail_after_commit_keeps_the_account_but_loses_the_answer(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    sandbox.knobs.error_rate_5xx = 1.0
    sandbox.knobs.fail_after_commit = True
    r = api.post("accounts/bulk_create", json={"accounts": [{"name": "Landed", "domain": "l.io"}]})
    assert (r.status_code, r.json()) == (500, CREATING)
    assert [a["domain"] for a in sandbox.accounts()] == ["l.io"]  # applied, answer lost
    r = api.post("accounts", json={"name": "Also landed"})
    assert (r.status_code, r.json()) == (500, CREATING)
    assert len(sandbox.accounts()) == 2


def test_the_5xx_rate_is_a_seeded_draw() -> None:
    def outcomes(seed: int) -> list[int]:
        from leadbridge.sandbox.server import ServedApp

        sb = ApolloSandbox(seed=seed, clock=lambda: 1_700_000_000.0)
        sb.knobs.set_rate_limits(None, None, None)
        sb.knobs.error_rate_5xx = 0.5
        with (
            ServedApp(sb.app) as served,
            httpx.Client(base_url=served.url, headers={"x-api-key": sb.issue_api_key()}) as http,
        ):
            return [http.get("/api/v1/auth/health").status_code for _ in range(30)]

    first = outcomes(5)
    assert first == outcomes(5)  # same seed, same faults
    assert 5 < first.count(500) < 25 and set(first) == {200, 500}


def test_garbage_next_answers_200_with_html_after_applying(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    sandbox.knobs.garbage_next(1)
    r = api.post("accounts", json={"name": "Acme"})
    assert r.status_code == 200 and r.text.startswith("<html>")
    assert "text/html" in r.headers["content-type"]
    assert [a["name"] for a in sandbox.accounts()] == ["Acme"]
    assert api.post("accounts", json={"name": "Next"}).json()["account"]["name"] == "Next"


def test_fail_next_injects_exact_answers_before_anything_happens(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    sandbox.knobs.fail_next(2, 503, {"error": "Service Unavailable"})
    sandbox.knobs.fail_next(1, 502, "Bad Gateway")
    for _ in range(2):
        r = api.post("accounts", json={"name": "X"})
        assert (r.status_code, r.json()) == (503, {"error": "Service Unavailable"})
    r = api.post("accounts", json={"name": "X"})
    assert (r.status_code, r.text) == (502, "Bad Gateway")
    assert sandbox.accounts() == []
    assert api.post("accounts", json={"name": "X"}).status_code == 200


def test_burst_429_then_back_to_normal(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    sandbox.knobs.burst_429(2, retry_after=4)
    for _ in range(2):
        r = api.get("account_stages")
        assert (r.status_code, r.headers["retry-after"]) == (429, "4")
        assert r.json()["message"].startswith(
            "The maximum number of api calls allowed for api/v1/account_stages is"
        )
    assert api.get("account_stages").status_code == 200


def test_faults_need_authentication_first(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    sandbox.knobs.fail_next(1, 500)
    assert api.get("auth/health", headers={"x-api-key": "bad"}).status_code == 401
    assert api.get("auth/health").status_code == 500  # the queued fault is still there


def test_latency_is_added_to_each_call(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    sandbox.knobs.latency = 0.15
    started = time.monotonic()
    assert api.get("auth/health").status_code == 200
    assert time.monotonic() - started >= 0.15
