"""/composite, /composite/batch and /composite/tree as the REST guide describes them: what the
org holds afterwards, what each subrequest answered, and what the request cost."""

from __future__ import annotations

from typing import Any

import httpx

from ..conftest import ServedOrg

V = "/services/data/v59.0"


def usage(response: httpx.Response) -> int:
    return int(response.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])


def sub(ref: str, method: str, url: str, body: Any = None) -> dict[str, Any]:
    item: dict[str, Any] = {"referenceId": ref, "method": method, "url": V + url}
    if body is not None:
        item["body"] = body
    return item


def test_references_chain_subrequests_in_one_api_call(sf_org: ServedOrg, api: httpx.Client) -> None:
    before = usage(api.get("limits/"))
    answer = api.post(
        "composite",
        json={
            "compositeRequest": [
                sub("newAccount", "POST", "/sobjects/Account", {"Name": "Acme"}),
                sub(
                    "newContact",
                    "POST",
                    "/sobjects/Contact",
                    {"LastName": "Ann", "AccountId": "@{newAccount.id}"},
                ),
                sub("readBack", "GET", "/sobjects/Account/@{newAccount.id}?fields=Name"),
                sub("found", "GET", "/query?q=SELECT Id, Name FROM Contact WHERE LastName = 'Ann'"),
                sub(
                    "renamed", "PATCH", "/sobjects/Contact/@{found.records[0].Id}", {"Title": "CEO"}
                ),
            ]
        },
    )
    assert answer.status_code == 200 and usage(answer) == before + 1  # one call for all five
    results = {r["referenceId"]: r for r in answer.json()["compositeResponse"]}
    account_id = results["newAccount"]["body"]["id"]
    contact_id = results["newContact"]["body"]["id"]
    assert results["newAccount"]["httpStatusCode"] == 201
    assert results["newAccount"]["httpHeaders"] == {
        "Location": f"{V}/sobjects/Account/{account_id}"
    }
    assert results["readBack"]["body"]["Name"] == "Acme"
    assert results["found"]["body"]["records"][0]["Id"] == contact_id
    assert (results["renamed"]["httpStatusCode"], results["renamed"]["body"]) == (204, None)
    row = sf_org.sandbox.org.row("Contact", contact_id)
    assert row["AccountId"] == account_id and row["Title"] == "CEO"


def test_all_or_none_rolls_everything_back(sf_org: ServedOrg, api: httpx.Client) -> None:
    org = sf_org.sandbox.org
    keep = org.create("Account", {"Name": "Keep"}).id
    answer = api.post(
        "composite",
        json={
            "allOrNone": True,
            "compositeRequest": [
                sub("made", "POST", "/sobjects/Account", {"Name": "Rolled back"}),
                sub("edited", "PATCH", f"/sobjects/Account/{keep}", {"Name": "Edited"}),
                sub("removed", "DELETE", f"/sobjects/Account/{keep}"),
                sub("bad", "POST", "/sobjects/Contact", {"LastName": "B", "Email": "nope"}),
                sub("never", "POST", "/sobjects/Account", {"Name": "Never run"}),
            ],
        },
    )
    results = answer.json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [400] * 5
    assert results[3]["body"][0]["errorCode"] == "INVALID_EMAIL_ADDRESS"
    halted = [r["body"][0]["errorCode"] for i, r in enumerate(results) if i != 3]
    assert halted == ["PROCESSING_HALTED"] * 4
    assert [r["Name"] for r in org.rows("Account")] == ["Keep"]
    assert not org.row("Account", keep)["IsDeleted"] and org.rows("Contact") == []


def test_without_all_or_none_only_dependents_of_a_failure_are_skipped(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    answer = api.post(
        "composite",
        json={
            "compositeRequest": [
                sub("badAccount", "POST", "/sobjects/Account", {"Website": "no name"}),
                sub(
                    "dependent",
                    "POST",
                    "/sobjects/Contact",
                    {"LastName": "X", "AccountId": "@{badAccount.id}"},
                ),
                sub("independent", "POST", "/sobjects/Account", {"Name": "Fine"}),
                sub("unknown", "GET", "/sobjects/Foo"),
            ]
        },
    )
    bad, dependent, independent, unknown = answer.json()["compositeResponse"]
    assert bad["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert dependent["httpStatusCode"] == 400 and dependent["body"] == [
        {
            "errorCode": "PROCESSING_HALTED",
            "message": "Invalid reference specified. No value for badAccount.id found in "
            "badAccount.",
        }
    ]
    assert independent["httpStatusCode"] == 201
    assert unknown["httpStatusCode"] == 404 and unknown["body"][0]["errorCode"] == "NOT_FOUND"
    org = sf_org.sandbox.org
    assert [r["Name"] for r in org.rows("Account")] == ["Fine"] and org.rows("Contact") == []


def test_collections_inside_composite_follow_the_outer_all_or_none(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    records = [
        {"attributes": {"type": "Account"}, "Name": "One"},
        {"attributes": {"type": "Account"}, "Website": "nameless"},
    ]
    answer = api.post(
        "composite",
        json={
            "allOrNone": True,
            "compositeRequest": [
                sub("first", "POST", "/sobjects/Account", {"Name": "Before"}),
                sub(
                    "many", "POST", "/composite/sobjects", {"allOrNone": False, "records": records}
                ),
            ],
        },
    )
    first, many = answer.json()["compositeResponse"]
    assert first["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert [r["success"] for r in many["body"]] == [False, False]
    assert sf_org.sandbox.org.rows("Account") == []


def test_malformed_composite_requests_are_refused_whole(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    one = sub("ok", "POST", "/sobjects/Account", {"Name": "A"})
    cases = [
        ({"compositeRequest": [{**one, "referenceId": "bad[1]"}]}, "JSON_PARSER_ERROR"),
        ({"compositeRequest": [{k: v for k, v in one.items() if k != "referenceId"}]}, None),
        ({"compositeRequest": [one, one]}, "JSON_PARSER_ERROR"),
        ({"compositeRequest": [{**one, "httpHeaders": {"Authorization": "x"}}]}, None),
        ({"compositeRequest": [{**one, "method": "post"}]}, None),
        ({"compositeRequest": [{**one, "url": "/limits"}]}, None),
        ({"compositeRequest": [sub("l", "GET", "/limits")]}, None),
        (
            {
                "compositeRequest": [
                    sub(f"r{i}", "POST", "/sobjects/Account", {"Name": "A"}) for i in range(26)
                ]
            },
            "LIMIT_EXCEEDED",
        ),
        (
            {
                "compositeRequest": [
                    sub(f"q{i}", "GET", "/query?q=SELECT Id FROM Account") for i in range(6)
                ]
            },
            "LIMIT_EXCEEDED",
        ),
        ({"compositeRequest": []}, None),
        ([1, 2], None),
    ]
    for body, code in cases:
        answer = api.post("composite", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()[0]["errorCode"] == (code or "JSON_PARSER_ERROR"), answer.text
    assert sf_org.sandbox.org.rows("Account") == []


def test_batch_runs_each_subrequest_on_its_own(sf_org: ServedOrg, api: httpx.Client) -> None:
    org = sf_org.sandbox.org
    acme = org.create("Account", {"Name": "Acme"}).id
    before = usage(api.get("limits/"))
    answer = api.post(
        "composite/batch",
        json={
            "batchRequests": [
                {
                    "method": "PATCH",
                    "url": f"v59.0/sobjects/Account/{acme}",
                    "richInput": {"Name": "Acme 2"},
                },
                {"method": "GET", "url": f"v59.0/sobjects/Account/{acme}?fields=Name"},
                {"method": "POST", "url": "v59.0/sobjects/Account", "richInput": {"Website": "x"}},
                {"method": "GET", "url": "v59.0/limits"},
            ]
        },
    )
    body = answer.json()
    assert body["hasErrors"] is True
    assert [r["statusCode"] for r in body["results"]] == [204, 200, 400, 200]
    assert body["results"][1]["result"]["Name"] == "Acme 2"
    assert body["results"][2]["result"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert usage(answer) == before + 4  # each subrequest is an API call
    assert org.row("Account", acme)["Name"] == "Acme 2"  # committed despite the later failure

    halted = api.post(
        "composite/batch",
        json={
            "haltOnError": True,
            "batchRequests": [
                {"method": "POST", "url": "v59.0/sobjects/Account", "richInput": {"Website": "x"}},
                {"method": "POST", "url": "v59.0/sobjects/Account", "richInput": {"Name": "Late"}},
            ],
        },
    ).json()
    assert [r["statusCode"] for r in halted["results"]] == [400, 412]
    assert halted["results"][1]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    assert [r["Name"] for r in org.rows("Account")] == ["Acme 2"]


def tree_record(kind: str, ref: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": kind, "referenceId": ref}, **fields}


def test_tree_creates_parents_then_children_linked(sf_org: ServedOrg, api: httpx.Client) -> None:
    before = usage(api.get("limits/"))
    answer = api.post(
        "composite/tree/Account",
        json={
            "records": [
                tree_record(
                    "Account",
                    "ref1",
                    name="Sample",
                    Contacts={
                        "records": [
                            tree_record("Contact", "ref2", lastname="Smith", email="s@x.io"),
                            tree_record("Contact", "ref3", lastname="Evans"),
                        ]
                    },
                ),
                tree_record("Account", "ref4", Name="Second"),
            ]
        },
    )
    assert answer.status_code == 201 and usage(answer) == before + 1
    body = answer.json()
    assert body["hasErrors"] is False
    assert [r["referenceId"] for r in body["results"]] == ["ref1", "ref4", "ref2", "ref3"]
    made = {r["referenceId"]: r["id"] for r in body["results"]}
    org = sf_org.sandbox.org
    assert org.row("Contact", made["ref2"])["AccountId"] == made["ref1"]
    assert org.row("Contact", made["ref3"])["LastName"] == "Evans"


def test_a_failing_tree_record_rolls_back_the_whole_tree(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    answer = api.post(
        "composite/tree/Account",
        json={
            "records": [
                tree_record(
                    "Account",
                    "ref1",
                    Name="Sample",
                    Contacts={
                        "records": [tree_record("Contact", "ref2", LastName="S", Email="123")]
                    },
                )
            ]
        },
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "hasErrors": True,
        "results": [
            {
                "referenceId": "ref2",
                "errors": [
                    {
                        "statusCode": "INVALID_EMAIL_ADDRESS",
                        "message": "Email: invalid email address: 123",
                        "fields": ["Email"],
                    }
                ],
            }
        ],
    }
    org = sf_org.sandbox.org
    assert org.rows("Account") == [] and org.rows("Contact") == []
    twice = api.post(
        "composite/tree/Account",
        json={
            "records": [
                tree_record("Account", "same", Name="A"),
                tree_record("Account", "same", Name="B"),
            ]
        },
    )
    assert twice.status_code == 400 and len(twice.json()["results"]) == 2
    wrong_root = api.post(
        "composite/tree/Account", json={"records": [tree_record("Contact", "c1", LastName="X")]}
    )
    assert (
        wrong_root.status_code == 400 and wrong_root.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    )
    too_many = {"records": [tree_record("Account", f"r{i}", Name=str(i)) for i in range(201)]}
    assert api.post("composite/tree/Account", json=too_many).status_code == 400
    assert org.rows("Account") == []
