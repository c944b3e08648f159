"""bulk_create (dedupe in both modes, limits, all-or-nothing) and bulk_update (both forms)."""

from __future__ import annotations

import httpx

from leadbridge.sandbox.apollo import ApolloSandbox

MISSING_ARRAY = 'Please provide an array of account attributes in the "accounts" parameter.'


def bulk_create(api: httpx.Client, accounts: list[dict], **extra: object) -> dict:
    r = api.post("accounts/bulk_create", json={"accounts": accounts, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def test_without_run_dedupe_only_crm_ids_match(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    old = sandbox.add_account(name="Old", domain="old.com", salesforce_id="001A")
    merged = sandbox.add_account(name="Merged", merged_crm_ids=["hs-9"])
    body = bulk_create(
        api,
        [
            {"name": "Old", "domain": "old.com"},  # same name and domain: still created
            {"name": "Renamed", "salesforce_id": "001A"},
            {"name": "Via merge", "hubspot_id": "hs-9"},
        ],
    )
    assert [a["name"] for a in body["created_accounts"]] == ["Old"]
    assert body["existing_accounts"] == [old, merged]  # exactly as they were: unmodified
    assert len(sandbox.accounts()) == 3


def test_with_run_dedupe_domain_org_and_name_match_too(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    by_domain = sandbox.add_account(name="Acme", domain="acme.com")
    by_org = sandbox.add_account(name="Org", organization_id="5e66b6381e05b4008c8331b8")
    by_name = sandbox.add_account(name="Globex Corporation")
    body = bulk_create(
        api,
        [
            {"name": "Acme Renamed", "domain": "https://www.ACME.com"},
            {"name": "Other", "organization_id": "5e66b6381e05b4008c8331b8"},
            {"name": "globex corporation"},
            {"name": "Brand New", "domain": "new.io"},
        ],
        run_dedupe=True,
    )
    assert body["existing_accounts"] == [by_domain, by_org, by_name]
    assert [a["domain"] for a in body["created_accounts"]] == ["new.io"]
    assert {a["name"] for a in sandbox.accounts()} == {
        "Acme",
        "Org",
        "Globex Corporation",
        "Brand New",
    }


def test_two_items_of_one_request_with_the_same_domain(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    items = [{"name": "Fresh", "domain": "fresh.io"}, {"name": "Fresh Again", "domain": "fresh.io"}]
    deduped = bulk_create(api, items, run_dedupe="true")  # Rails-style string booleans work
    first = deduped["created_accounts"][0]
    assert [a["name"] for a in deduped["created_accounts"]] == ["Fresh"]
    assert deduped["existing_accounts"] == [first]  # the second matched the first
    plain = bulk_create(api, items, run_dedupe=False)
    assert len(plain["created_accounts"]) == 2 and plain["existing_accounts"] == []
    assert [a["name"] for a in sandbox.accounts()] == ["Fresh", "Fresh", "Fresh Again"]


def test_owner_defaults_to_the_caller(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    body = bulk_create(api, [{"name": "Mine"}, {"name": "Nobody's", "owner_id": None}])
    owners = [a["owner_id"] for a in body["created_accounts"]]
    assert owners == [sandbox.state.admin["id"], None]


def test_one_bad_item_fails_the_whole_request_and_writes_nothing(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    gone = sandbox.add_user(email="gone@team.example", deleted=True)
    r = api.post(
        "accounts/bulk_create",
        json={"accounts": [{"name": "Fine"}, {"name": "Bad owner", "owner_id": gone["id"]}]},
    )
    assert (r.status_code, r.json()) == (
        422,
        {"error": f"Parameters misconfigured. {gone['id']} is not a valid ID"},
    )
    r = api.post("accounts/bulk_create", json={"accounts": [{"name": "Fine"}, {"phone": "1"}]})
    assert r.json() == {"error": "Please specify at least a name or domain."}
    assert sandbox.accounts() == []


def test_bulk_create_limits_and_missing_array(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    r = api.post("accounts/bulk_create", json={"accounts": [{"name": str(i)} for i in range(101)]})
    assert (r.status_code, r.json()) == (
        422,
        {"error": "Please limit your array to 100 accounts or fewer."},
    )
    bodies: list[dict[str, object]] = [{}, {"accounts": []}, {"accounts": "acme"}]
    for body in bodies:
        r = api.post("accounts/bulk_create", json=body)
        assert (r.status_code, r.json()) == (422, {"error": MISSING_ARRAY})
    assert sandbox.accounts() == []
    assert len(bulk_create(api, [{"name": str(i)} for i in range(100)])["created_accounts"]) == 100


def test_bulk_update_with_per_account_attributes(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    rep = sandbox.add_user(email="r@team.example", first_name="R", last_name="Ep")
    website = sandbox.custom_field_id("Website")
    one, two = sandbox.add_account(name="One", domain="one.com"), sandbox.add_account(name="Two")
    r = api.post(
        "accounts/bulk_update",
        json={
            "account_attributes": [
                {"id": one["id"], "name": "One Inc", "owner_id": rep["id"], "domain": "x.com"},
                {"id": two["id"], "typed_custom_fields": {website: "https://two.io"}},
                {"id": "66e9abf95ac32901b20d1a0d", "name": "Ghost"},
            ]
        },
    )
    accounts = r.json()["accounts"]
    assert [a["id"] for a in accounts] == [one["id"], two["id"]]  # unknown ids are left out
    held = {a["id"]: a for a in sandbox.accounts()}
    assert (held[one["id"]]["name"], held[one["id"]]["owner_id"]) == ("One Inc", rep["id"])
    assert held[one["id"]]["domain"] == "one.com"  # domain is not a bulk_update attribute
    assert held[two["id"]]["typed_custom_fields"] == {website: "https://two.io"}
    assert accounts == [held[one["id"]], held[two["id"]]]


def test_bulk_update_with_shared_fields(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    stage = sandbox.stage_id("Current Client")
    ids = [sandbox.add_account(name=f"A{i}")["id"] for i in range(3)]
    r = api.post(
        "accounts/bulk_update", json={"account_ids": ids, "account_stage_id": stage, "async": True}
    )
    assert [a["account_stage_id"] for a in r.json()["accounts"]] == [stage] * 3
    assert {a["account_stage_id"] for a in sandbox.accounts()} == {stage}


def test_bulk_update_errors(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    account = sandbox.add_account(name="A")
    r = api.post(
        "accounts/bulk_update",
        json={"account_attributes": [{"id": account["id"], "name": "B"}], "async": True},
    )
    assert (r.status_code, r.json()) == (422, {"error": "Async processing is not permitted."})
    r = api.post("accounts/bulk_update", json={"account_ids": [account["id"]] * 1001, "name": "x"})
    assert (r.status_code, r.json()) == (
        422,
        {"error": "Please limit your array to fewer than 1000."},
    )
    assert (
        api.post(
            "accounts/bulk_update", json={"account_ids": [account["id"]] * 1000, "name": "ok"}
        ).status_code
        == 200
    )
    r = api.post("accounts/bulk_update", json={"account_ids": ["nope"], "name": "x"})
    assert r.json() == {"error": "Parameters misconfigured. nope is not a valid ID"}
    r = api.post("accounts/bulk_update", json={"account_ids": [account["id"]], "owner_id": "bad"})
    assert r.json() == {"error": "Parameters misconfigured. bad is not a valid ID"}
    assert sandbox.accounts()[0]["name"] == "ok"
