"""accounts/search: name filter, stages, sorting, paging, the display cap, bad parameters."""

from __future__ import annotations

import httpx

from leadbridge.sandbox.apollo import ApolloSandbox

from .conftest import Clock


def names(body: dict) -> list[str]:
    return [a["name"] for a in body["accounts"]]


def test_name_filter_sort_and_paging(
    sandbox: ApolloSandbox, api: httpx.Client, clock: Clock
) -> None:
    for i in range(7):
        sandbox.add_account(name=f"Acme {i}", domain=f"acme{i}.com")
        clock.advance(1)
    sandbox.add_account(name="Other", domain="other.com")
    query = {"q_organization_name": "ACME", "sort_by_field": "account_created_at"}
    page3 = api.post(
        "accounts/search", json={**query, "sort_ascending": True, "page": 3, "per_page": 3}
    ).json()
    assert page3["pagination"] == {"page": 3, "per_page": 3, "total_entries": 7, "total_pages": 3}
    assert names(page3) == ["Acme 6"]
    newest = api.post("accounts/search", json={**query, "per_page": 2}).json()
    assert names(newest) == ["Acme 6", "Acme 5"]  # most recent first by default
    assert page3["breadcrumbs"] == [
        {
            "label": "Company Name",
            "signal_field_name": "q_organization_name",
            "value": "ACME",
            "display_name": "ACME",
        }
    ]
    row = page3["accounts"][0]
    assert row["num_contacts"] == 0 and row["last_activity_date"] is None
    assert {
        "partial_results_only",
        "has_join",
        "disable_eu_prospecting",
        "num_fetch_result",
    } <= set(page3)


def test_sort_by_updated_at_sees_recent_edits_first(
    sandbox: ApolloSandbox, api: httpx.Client, clock: Clock
) -> None:
    first = sandbox.add_account(name="First")
    clock.advance(1)
    sandbox.add_account(name="Second")
    clock.advance(1)
    api.patch(f"accounts/{first['id']}", json={"phone": "555-555-0100"})
    body = api.post("accounts/search", json={"sort_by_field": "account_updated_at"}).json()
    assert names(body) == ["First", "Second"]


def test_stage_filter_and_unknown_stage(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    lead, client = sandbox.stage_id("Lead"), sandbox.stage_id("Current Client")
    sandbox.add_account(name="L", account_stage_id=lead)
    sandbox.add_account(name="C", account_stage_id=client)
    sandbox.add_account(name="None")
    body = api.post("accounts/search", json={"account_stage_ids": [lead, client]}).json()
    assert sorted(names(body)) == ["C", "L"]
    assert [c["display_name"] for c in body["breadcrumbs"]] == ["Lead", "Current Client"]
    via_query = api.post("accounts/search", params={"account_stage_ids[]": lead}).json()
    assert names(via_query) == ["L"]
    r = api.post("accounts/search", json={"account_stage_ids": ["61b8e913e0f4d2012e3af74e"]})
    assert (r.status_code, r.json()) == (
        422,
        {
            "error": "Your search parameters are entered incorrectly. Did you try to edit the "
            "URL directly?"
        },
    )


def test_a_bad_sort_is_the_documented_422(api: httpx.Client) -> None:
    r = api.post("accounts/search", json={"sort_by_field": "name"})
    assert (r.status_code, r.json()) == (
        422,
        {"error": "Invalid sort criteria", "skip_alert_dialog": True},
    )


def test_per_page_is_capped_at_100_and_pages_end_empty(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    for i in range(120):
        sandbox.add_account(name=f"Co {i:03d}")
    body = api.post("accounts/search", json={"per_page": 1000}).json()
    assert body["pagination"]["per_page"] == 100 and len(body["accounts"]) == 100
    assert api.post("accounts/search", json={"page": 3, "per_page": 100}).json()["accounts"] == []


def test_the_display_cap_hides_rows_but_total_entries_counts_them(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    sandbox.knobs.display_cap = 25  # Apollo: 50,000 (500 pages of 100)
    for i in range(30):
        sandbox.add_account(name=f"Co {i:02d}")
    query = {"sort_by_field": "account_created_at", "sort_ascending": True, "per_page": 10}
    last_visible = api.post("accounts/search", json={**query, "page": 3}).json()
    assert names(last_visible) == [f"Co {i:02d}" for i in range(20, 25)]
    assert last_visible["pagination"]["total_entries"] == 30
    assert last_visible["pagination"]["total_pages"] == 3
    past_pages = api.post("accounts/search", json={"page": 501, "per_page": 1}).json()
    assert past_pages["accounts"] == []  # never beyond 500 pages
