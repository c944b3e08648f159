"""Requests the API cannot take: unknown routes, wrong methods, bodies that are not what a
resource reads, SOQL no parser should recurse into. Each gets Salesforce's error array with
its errorCode (and Sforce-Limit-Info on data calls), never a 500 or FastAPI's {"detail"}."""

from __future__ import annotations

import httpx

from ..conftest import ServedOrg

NESTED = ("[" * 5_000 + "]" * 5_000).encode()


def test_unknown_routes_and_wrong_methods_answer_like_salesforce(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    before = sf_org.sandbox.org.api_usage
    unknown = api.get("nothing/here")
    assert unknown.status_code == 404
    assert unknown.json() == [
        {"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}
    ]
    assert unknown.headers["Sforce-Limit-Info"] == f"api-usage={before + 1}/15000"

    wrong = api.put(f"sobjects/Account/001{'0' * 15}", json={})
    assert wrong.status_code == 405 and "Sforce-Limit-Info" in wrong.headers
    assert wrong.json() == [
        {
            "errorCode": "METHOD_NOT_ALLOWED",
            "message": "HTTP Method 'PUT' not allowed. Allowed are GET,PATCH,DELETE",
        }
    ]
    assert api.post("limits/").json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    # Still a data call: no session, no answer but INVALID_SESSION_ID.
    anonymous = sf_org.session().get(f"{sf_org.url}/services/data/v59.0/nothing")
    assert anonymous.status_code == 401
    assert anonymous.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    outside = sf_org.session().get(f"{sf_org.url}/not/the/api")
    assert outside.status_code == 404 and outside.json()[0]["errorCode"] == "NOT_FOUND"
    assert "Sforce-Limit-Info" not in outside.headers


def test_bodies_that_are_not_records_are_json_parser_errors(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    json_headers = {"Content-Type": "application/json"}
    cases = [
        ("POST", "sobjects/Account/", b"[1, 2]", "Can not deserialize SObject out of START_ARRAY"),
        (
            "POST",
            "sobjects/Account/",
            b'  "Acme"',
            "out of VALUE_STRING token at [line:1, column:3]",
        ),
        ("POST", "sobjects/Account/", NESTED, "nesting depth"),
        ("POST", "sobjects/Account/", b'{"Name": ["A"]}', "from START_ARRAY value: Name"),
        ("POST", "sobjects/Account/", b'{"Name": {"a": 1}}', "from START_OBJECT value: Name"),
        ("POST", "sobjects/Account/", b'{"Name": NaN}', "NaN"),
        ("POST", "sobjects/Account/", b'{"Name": "A"', "Expecting"),
        ("PATCH", f"sobjects/Account/001{'0' * 15}", b"7", "VALUE_NUMBER_INT"),
        ("POST", "composite/sobjects", b'{"records": [1, 2]}', "VALUE_NUMBER_INT"),
        ("POST", "composite/sobjects", b'{"records": [{"attributes": []}]}', "attributes"),
        ("POST", "composite/sobjects", NESTED, "nesting depth"),
        ("POST", "composite", NESTED, "nesting depth"),
        ("POST", "jobs/ingest/", NESTED, "nesting depth"),
    ]
    for method, path, raw, message in cases:
        answer = api.request(method, path, content=raw, headers=json_headers)
        assert answer.status_code == 400, (path, raw[:40], answer.text)
        (error,) = answer.json()
        assert error["errorCode"] == "JSON_PARSER_ERROR" and message in error["message"], error
        assert "Sforce-Limit-Info" in answer.headers
    assert sf_org.sandbox.org.rows("Account") == []


def test_soql_nested_past_reason_is_a_malformed_query(api: httpx.Client) -> None:
    deep = "SELECT Id FROM Account WHERE " + "(" * 3_000 + "Name = 'x'" + ")" * 3_000
    nots = "SELECT Id FROM Account WHERE " + "NOT " * 3_000 + "Name = 'x'"
    for soql in (deep, nots):
        answer = api.get("query/", params={"q": soql})
        assert answer.status_code == 400
        assert answer.json()[0]["errorCode"] == "MALFORMED_QUERY"
        assert "nest at most 100 levels" in answer.json()[0]["message"]
    fine = "SELECT Id FROM Account WHERE " + "(" * 50 + "Name = 'x'" + ")" * 50
    assert api.get("query/", params={"q": fine}).status_code == 200
    for soql, code in (
        ("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:99999999", "NUMBER_OUTSIDE"),
        ("SELECT Id FROM Account WHERE CreatedDate > 2024-13-45T00:00:00Z", "INVALID_FIELD"),
    ):
        answer = api.get("query/", params={"q": soql})
        assert answer.status_code == 400 and answer.json()[0]["errorCode"].startswith(code)


def test_numbers_no_field_can_hold_are_refused_per_field(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    for raw in (
        b'{"Name": "A", "NumberOfEmployees": 1e400}',
        b'{"Name": "A", "NumberOfEmployees": ' + b"9" * 400 + b"}",
    ):
        answer = api.post(
            "sobjects/Account/", content=raw, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()[0]["errorCode"] == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert sf_org.sandbox.org.rows("Account") == []
