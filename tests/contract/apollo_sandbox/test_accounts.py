"""Accounts: create/update/view, validation bodies, custom fields, update_owners, stages, users."""

from __future__ import annotations

import httpx

from leadbridge.sandbox.apollo import ApolloSandbox

from .conftest import Clock, Served


def test_create_returns_the_account_and_never_dedupes(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    rep = sandbox.add_user(email="ann@team.example", first_name="Ann", last_name="Rep")
    lead = sandbox.stage_id("Lead")
    body = {"name": "Acme", "domain": "https://WWW.Acme.com/about", "owner_id": rep["id"]}
    first = api.post("accounts", json={**body, "account_stage_id": lead, "phone": "555-555-0108"})
    second = api.post("accounts", json={"name": "Acme", "domain": "acme.com"})

    assert first.status_code == second.status_code == 200
    account = first.json()["account"]
    assert {k: account[k] for k in ("name", "domain", "owner_id", "account_stage_id")} == {
        "name": "Acme",
        "domain": "acme.com",
        "owner_id": rep["id"],
        "account_stage_id": lead,
    }
    assert account["team_id"] == sandbox.team_id and account["source"] == "api"
    assert account["original_source"] == "api" and account["modality"] == "account"
    assert account["sanitized_phone"] == "+15555550108" and account["phone_status"] == "no_status"
    assert account["typed_custom_fields"] == {} and account["custom_field_errors"] == {}
    assert account["label_ids"] == [] and account["existence_level"] == "full"
    held = sandbox.accounts()
    assert [a["domain"] for a in held] == ["acme.com", "acme.com"]  # two accounts, same domain
    assert held[0] == account


def test_create_without_name_or_domain_is_the_documented_422(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    r = api.post("accounts", json={"phone": "555"})
    assert (r.status_code, r.json()) == (
        422,
        {"error": "Please specify at least a name or domain."},
    )
    assert sandbox.accounts() == []


def test_an_owner_not_active_on_the_team_is_a_422(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    gone = sandbox.add_user(email="gone@team.example", deleted=True)
    stranger = "0123456789abcdef01234567"
    for owner in (stranger, gone["id"]):  # a deleted user is refused too (the stricter choice)
        r = api.post("accounts", json={"name": "Acme", "owner_id": owner})
        assert (r.status_code, r.json()) == (
            422,
            {"error": f"Parameters misconfigured. {owner} is not a valid ID"},
        )
    r = api.post("accounts", json={"name": "Acme", "account_stage_id": "78977"})
    assert r.json() == {"error": "Parameters misconfigured. 78977 is not a valid ID"}
    assert sandbox.accounts() == []


def test_bad_input_is_a_clear_422_never_a_500(api: httpx.Client) -> None:
    bad = [
        (b"{not json", "Could not parse the request body as JSON."),
        (b"[1, 2]", "The request body must be a JSON object."),
        (b'{"name": {"a": 1}}', "Parameters misconfigured. name must be a string."),
        (
            b'{"name": "A", "typed_custom_fields": "x"}',
            "Parameters misconfigured. typed_custom_fields must be an object of field ids.",
        ),
    ]
    for raw, message in bad:
        r = api.post("accounts", content=raw, headers={"content-type": "application/json"})
        assert (r.status_code, r.json()) == (422, {"error": message})


def test_update_and_view(sandbox: ApolloSandbox, api: httpx.Client, clock: Clock) -> None:
    account = sandbox.add_account(name="Acme", domain="acme.com")
    clock.advance(5)
    r = api.patch(f"accounts/{account['id']}", json={"name": "Acme Corp", "domain": "www.acme.io"})
    assert r.status_code == 200 and r.json()["labels"] == []
    updated = r.json()["account"]
    assert (updated["name"], updated["domain"]) == ("Acme Corp", "acme.io")
    assert updated["updated_at"] == "2023-11-14T22:13:25.000Z"
    assert updated["created_at"] == account["created_at"]
    assert api.get(f"accounts/{account['id']}").json() == {"account": updated}
    assert sandbox.accounts() == [updated]


def test_update_and_view_of_unknown_ids_are_422s(api: httpx.Client) -> None:
    r = api.patch("accounts/66e9abf95ac32901b20d1a0d", json={"name": "X"})
    assert (r.status_code, r.json()) == (
        422,
        {"error": "Parameters misconfigured. account_id is not a valid ID"},
    )
    r = api.get("accounts/nope")
    assert (r.status_code, r.json()) == (
        422,
        {"error": "Parameters misconfigured. id is not a valid ID"},
    )


def test_update_cannot_clear_both_name_and_domain(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    account = sandbox.add_account(name="Acme")
    r = api.patch(f"accounts/{account['id']}", json={"name": ""})
    assert r.json() == {"error": "Please specify at least a name or domain."}
    assert sandbox.accounts()[0]["name"] == "Acme"


def test_custom_fields_are_keyed_by_id_and_unknown_ids_are_reported(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    fields = api.get("typed_custom_fields").json()["typed_custom_fields"]
    website = next(f for f in fields if f["name"] == "Website")
    assert {k: website[k] for k in ("modality", "type")} == {
        "modality": "account",
        "type": "string",
    }
    assert {"id", "modality", "name", "type", "picklist_options"} <= set(website)
    persona = sandbox.custom_field_id("Persona", "contact")
    r = api.post(
        "accounts",
        json={
            "name": "Acme",
            "typed_custom_fields": {website["id"]: "https://acme.com", "nope": 1, persona: "x"},
        },
    )
    account = r.json()["account"]
    assert account["typed_custom_fields"] == {website["id"]: "https://acme.com"}
    assert set(account["custom_field_errors"]) == {"nope", persona}  # contact fields too
    assert sandbox.accounts()[0]["typed_custom_fields"] == {website["id"]: "https://acme.com"}


def test_update_owners_by_query_params(sandbox: ApolloSandbox, api: httpx.Client) -> None:
    rep = sandbox.add_user(email="bo@team.example", first_name="Bo", last_name="Rep")
    one, two = sandbox.add_account(name="One"), sandbox.add_account(name="Two")
    unknown = "66e9abf95ac32901b20d1a0d"
    r = api.post(
        "accounts/update_owners",
        params=[
            ("account_ids[]", one["id"]),
            ("account_ids[]", two["id"]),
            ("account_ids[]", unknown),
            ("owner_id", rep["id"]),
        ],
    )
    assert r.json() == {
        "accounts": [
            {"id": one["id"], "owner_id": rep["id"], "crm_owner_id": None},
            {"id": two["id"], "owner_id": rep["id"], "crm_owner_id": None},
        ]  # the unknown id is left out
    }
    assert {a["owner_id"] for a in sandbox.accounts()} == {rep["id"]}
    missing_ids = api.post("accounts/update_owners", params={"owner_id": rep["id"]})
    assert (missing_ids.status_code, missing_ids.json()) == (
        422,
        {"error": "Required parameter 'account_ids' missing"},
    )
    missing_owner = api.post("accounts/update_owners", params={"account_ids[]": one["id"]})
    assert missing_owner.json() == {"error": "Required parameter 'owner_id' missing"}
    gone = sandbox.add_user(email="gone@team.example", deleted=True)
    r = api.post(
        "accounts/update_owners", params={"account_ids[]": one["id"], "owner_id": gone["id"]}
    )
    assert r.status_code == 422 and sandbox.accounts()[0]["owner_id"] == rep["id"]


def test_account_stages_are_apollos_defaults_with_team_ids(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    stages = api.get("account_stages").json()["account_stages"]
    assert [s["name"] for s in stages] == [
        "Review",
        "Current Client",
        "Active Opportunity",
        "Dead Opportunity",
        "Do Not Prospect",
        "Subscriber",
        "Lead",
        "Marketing Qualified Lead",
        "Sales Qualified Lead",
        "Evangelist",
        "Other",
    ]
    assert stages[1] == {
        "id": stages[1]["id"],
        "team_id": sandbox.team_id,
        "display_name": "Current Client",
        "name": "Current Client",
        "display_order": 2,
        "default_exclude_for_leadgen": True,
        "category": "succeeded",
        "is_meeting_set": None,
    }
    assert ApolloSandbox(seed=99).stage_id("Lead") != sandbox.stage_id("Lead")


def test_users_search_pages_with_string_page_numbers(
    sandbox: ApolloSandbox, api: httpx.Client
) -> None:
    for i in range(4):
        sandbox.add_user(
            email=f"u{i}@team.example", first_name="U", last_name=str(i), deleted=i == 3
        )
    body = api.get("users/search", params={"page": 2, "per_page": 2}).json()
    assert body["pagination"] == {
        "page": "2",
        "per_page": "2",
        "total_entries": 5,
        "total_pages": 3,
    }
    assert [u["email"] for u in body["users"]] == ["u1@team.example", "u2@team.example"]
    assert set(body["users"][0]) == {
        "id",
        "team_id",
        "first_name",
        "last_name",
        "name",
        "title",
        "email",
        "deleted",
        "created_at",
    }
    last = api.get("users/search", params={"page": 3, "per_page": 2}).json()["users"]
    assert [(u["email"], u["deleted"]) for u in last] == [("u3@team.example", True)]
    big = api.get("users/search", params={"per_page": 500}).json()["pagination"]
    assert big["per_page"] == "100"
    r = api.get("users/search", params={"page": "two"})
    assert (r.status_code, r.json()) == (
        422,
        {"error": "Parameters misconfigured. page must be a number."},
    )


def test_the_sandbox_records_calls_by_route(served: Served, api: httpx.Client) -> None:
    account = api.post("accounts", json={"name": "A"}).json()["account"]
    api.patch(f"accounts/{account['id']}", json={"name": "B"})
    api.get(f"accounts/{account['id']}")
    assert dict(served.sandbox.calls) == {
        "POST /api/v1/accounts": 1,
        "PATCH /api/v1/accounts/{account_id}": 1,
        "GET /api/v1/accounts/{account_id}": 1,
    }
