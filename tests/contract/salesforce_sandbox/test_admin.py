"""The Salesforce sandbox's admin surface (/__admin__/): edits by another user, knobs."""

from __future__ import annotations

import httpx

from ..conftest import ServedOrg


def test_edits_as_another_user_reuse_one_stand_in_rep(sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    acme = org.create("Account", {"Name": "Acme"}).id
    users_before = len(org.rows("User"))
    http = sf_org.session()
    editors = set()
    for name in ("Acme 1", "Acme 2", "Acme 3"):
        answer = http.post(f"{sf_org.url}/__admin__/bump/Account/{acme}", json={"Name": name})
        assert answer.status_code == 200 and answer.json()["success"] is True
        editors.add(org.row("Account", acme)["LastModifiedById"])
    assert len(editors) == 1 and editors != {org.integration_user}
    assert len(org.rows("User")) == users_before + 1
    assert org.row("Account", acme)["Name"] == "Acme 3"
    chosen = org.add_user("ann@org.example", "Ann", "Rep")
    http.post(
        f"{sf_org.url}/__admin__/bump/Account/{acme}", json={"Name": "A", "__user_id": chosen}
    )
    assert org.row("Account", acme)["LastModifiedById"] == chosen


def test_knobs_are_checked_before_any_is_set(sf_org: ServedOrg) -> None:
    http, knobs = sf_org.session(), sf_org.sandbox.knobs
    url = f"{sf_org.url}/__admin__/knobs"
    for body in ({"latency": "slow"}, {"nope": 1}, {"error_rate_5xx": 0.5, "latency": -1}, [1]):
        answer = http.post(url, json=body)
        assert answer.status_code == 400 and "error" in answer.json(), answer.text
    assert knobs.error_rate_5xx == 0.0 and knobs.latency == 0.0
    assert http.post(url, data=b"[" * 500 + b"]" * 500).status_code == 400
    answer = http.post(url, json={"session_expiry_calls": 3, "lock_row_rate": 0.25})
    assert answer.status_code == 200 and answer.json()["session_expiry_calls"] == 3
    assert (knobs.session_expiry_calls, knobs.lock_row_rate) == (3, 0.25)
    assert http.get(url).json()["lock_row_rate"] == 0.25
    bad_limit = http.post(f"{sf_org.url}/__admin__/limits", params={"daily": "lots"})
    assert bad_limit.status_code == 400 and "daily" in bad_limit.json()["error"]


def test_holds_refuse_what_they_cannot_hold(api: httpx.Client, sf_org: ServedOrg) -> None:
    http = sf_org.session()
    for body in (
        {"method": "GET", "path": "(", "when": "before"},
        {"method": "GET", "path": "x", "when": "later"},
        {"path": "x"},
        [1],
    ):
        answer = http.post(f"{sf_org.url}/__admin__/holds", json=body)
        assert answer.status_code == 400, answer.text
    assert http.post(f"{sf_org.url}/__admin__/release", json={"id": "x"}).status_code == 400
    assert sf_org.sandbox.holds.rules == [] and api.get("limits/").status_code == 200
