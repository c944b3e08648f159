"""Both sandboxes fuzzed over a real socket: random, deep and huge JSON, wrong types, garbage
bytes, SOQL made of real and broken tokens, odd paths and methods. Whatever comes in, the
answer is never a 5xx (the fault knobs stay off), and a refused data call answers Salesforce's
error array with an errorCode (Apollo: its JSON or text error)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbridge.sandbox.apollo import ApolloSandbox
from leadbridge.sandbox.salesforce import SalesforceKnobs, SalesforceSandbox
from leadbridge.sandbox.server import ServedApp

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
V = "/services/data/v59.0"

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
depths = st.integers(min_value=1, max_value=20_000)
nested = depths.map(lambda n: ("[" * n + "]" * n).encode()) | depths.map(
    lambda n: ('{"a":' * n + "1" + "}" * n).encode()
)
huge = st.integers(min_value=1, max_value=400_000).map(
    lambda n: json.dumps({"Name": "x" * n}).encode()
)
garbage = st.binary(max_size=300)


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode()


bodies = json_values.map(encoded) | nested | huge | garbage
ACCOUNT_FIELDS = [
    "Name",
    "Website",
    "NumberOfEmployees",
    "AnnualRevenue",
    "Type",
    "OwnerId",
    "ParentId",
    "Id",
    "attributes",
    "Nope__c",
]
records = st.dictionaries(
    st.sampled_from(ACCOUNT_FIELDS) | st.text(max_size=10), json_values, max_size=6
)
SOQL_WORDS = [
    "SELECT",
    "Id",
    "Name",
    "COUNT()",
    "COUNT(Id)",
    "FROM",
    "Account",
    "Contact",
    "Nope",
    "WHERE",
    "(",
    ")",
    "AND",
    "OR",
    "NOT",
    "=",
    "!=",
    "<",
    ">=",
    "IN",
    "LIKE",
    "'x'",
    "'%a_'",
    "'\\'",
    "1",
    "-2.5",
    "null",
    "true",
    "TODAY",
    "LAST_N_DAYS:3",
    "LAST_N_DAYS:999999999",
    "2024-01-01",
    "2024-13-45",
    "2024-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LIMIT",
    "OFFSET",
    "2001",
    ",",
    "Account.Name",
    "Owner.Name",
    "CreatedDate",
    "SystemModstamp",
    "IsDeleted",
    "AccountId",
]
soql_depths = st.integers(min_value=1, max_value=6_000)  # a GET url holds 64 KiB at most
deep_soql = soql_depths.map(
    lambda n: "SELECT Id FROM Account WHERE " + "(" * n + "Name = 'x'" + ")" * n
) | soql_depths.map(lambda n: "SELECT Id FROM Account WHERE " + "NOT " * n + "Name = 'x'")
soql = (
    st.lists(st.sampled_from(SOQL_WORDS), max_size=30).map(" ".join)
    | st.text(max_size=200)
    | deep_soql
)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"])
segments = st.lists(
    st.sampled_from(
        [
            "sobjects",
            "Account",
            "Contact",
            "describe",
            "updated",
            "deleted",
            "query",
            "composite",
            "batch",
            "tree",
            "jobs",
            "ingest",
            "limits",
            "001",
            "Email",
        ]
    )
    | st.text(alphabet="abcXYZ019._-%", min_size=1, max_size=12),
    max_size=5,
).map("/".join)


def sf_error_shape(answer: httpx.Response) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.status_code >= 400 and answer.headers.get("content-type", "").startswith(
        "application/json"
    ):
        body = answer.json()
        if isinstance(body, list):
            assert body and "errorCode" in body[0], body
        else:  # sObject Tree refuses with its own result object; the admin surface with error
            assert "hasErrors" in body or "error" in body, body


@pytest.fixture(scope="module")
def salesforce() -> Iterator[tuple[SalesforceSandbox, httpx.Client]]:
    with SalesforceSandbox(seed=21) as sb:
        sb.org.create("Account", {"Name": "Seed"})
        sb.org.daily_limit = 10**9  # thousands of examples must not spend the day's calls
        with (
            ServedApp(sb.app) as served,
            httpx.Client(
                base_url=served.url,
                headers={"Authorization": f"Bearer {sb.issue_session()}"},
                timeout=30,
            ) as http,
        ):
            yield sb, http


def reset(sb: SalesforceSandbox) -> None:
    """Whatever an admin call set, the next example starts from a quiet sandbox."""
    vars(sb.knobs).update(vars(SalesforceKnobs()))
    sb.holds.rules.clear()
    sb.holds.release()
    sb.org.daily_limit, sb.org.api_usage = 10**9, 0


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/sobjects/Account/",
            "/sobjects/Nope/",
            "/composite/sobjects",
            "/composite",
            "/composite/batch",
            "/composite/tree/Account",
            "/jobs/ingest/",
            "/jobs/query/",
        ]
    ),
    body=bodies,
)
def test_salesforce_posts_of_any_body(salesforce: Any, path: str, body: bytes) -> None:
    _, http = salesforce
    sf_error_shape(http.post(V + path, content=body, headers={"Content-Type": "application/json"}))


@FUZZ
@given(record=records, method=st.sampled_from(["POST", "PATCH", "UPSERT"]))
def test_salesforce_records_of_any_shape(
    salesforce: Any, record: dict[str, Any], method: str
) -> None:
    sb, http = salesforce
    seed = next(iter(sb.org.rows("Account")))["Id"]
    if method == "POST":
        sf_error_shape(http.post(f"{V}/sobjects/Account/", json=record))
    elif method == "PATCH":
        sf_error_shape(http.patch(f"{V}/sobjects/Account/{seed}", json=record))
    else:
        sf_error_shape(http.patch(f"{V}/sobjects/Contact/Email/a@b.io", json=record))
    many = {"allOrNone": True, "records": [{"attributes": {"type": "Account"}, **record}] * 3}
    sf_error_shape(http.post(f"{V}/composite/sobjects", json=many))
    sf_error_shape(
        http.post(
            f"{V}/composite",
            json={
                "allOrNone": bool(record),
                "compositeRequest": [
                    {
                        "method": "POST",
                        "url": f"{V}/sobjects/Account",
                        "referenceId": "a",
                        "body": record,
                    },
                    {
                        "method": "PATCH",
                        "url": f"{V}/sobjects/Account/@{{a.id}}",
                        "referenceId": "b",
                        "body": record,
                    },
                    {
                        "method": "GET",
                        "url": f"{V}/query?q=SELECT Id FROM Account WHERE Id = '@{{a.id}}'",
                        "referenceId": "c",
                    },
                ],
            },
        )
    )


@FUZZ
@given(text=soql, all_rows=st.booleans())
def test_salesforce_soql_of_any_text(salesforce: Any, text: str, all_rows: bool) -> None:
    _, http = salesforce
    sf_error_shape(http.get(f"{V}/{'queryAll' if all_rows else 'query'}/", params={"q": text}))
    sf_error_shape(http.post(f"{V}/jobs/query/", json={"operation": "query", "query": text}))


@FUZZ
@given(
    method=methods,
    path=segments,
    query=st.dictionaries(
        st.sampled_from(
            ["q", "ids", "start", "end", "fields", "sObjects", "allOrNone", "locator", "maxRecords"]
        ),
        st.text(max_size=30),
        max_size=3,
    ),
)
def test_salesforce_any_path_and_method(
    salesforce: Any, method: str, path: str, query: dict[str, str]
) -> None:
    _, http = salesforce
    sf_error_shape(http.request(method, f"{V}/{path}", params=query, json={}))


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/__admin__/knobs",
            "/__admin__/holds",
            "/__admin__/release",
            "/__admin__/bump/Account/{seed}",
            "/__admin__/limits",
            "/__admin__/fields/Account/X__c",
            "/__admin__/merge/Account/{seed}",
            "/__admin__/convert/00Q000000000000AAA",
        ]
    ),
    body=bodies,
    params=st.dictionaries(
        st.sampled_from(["daily", "used", "kind", "losers", "external_id"]),
        st.text(max_size=10),
        max_size=2,
    ),
)
def test_salesforce_admin_surface(
    salesforce: Any, path: str, body: bytes, params: dict[str, str]
) -> None:
    sb, http = salesforce
    seed = next(iter(sb.org.rows("Account")))["Id"]
    try:
        answer = http.post(path.format(seed=seed), content=body, params=params)
        assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    finally:
        reset(sb)


@pytest.fixture(scope="module")
def apollo() -> Iterator[tuple[ApolloSandbox, httpx.Client]]:
    sb = ApolloSandbox(seed=22)
    sb.knobs.set_rate_limits(None, None, None)
    sb.add_account(name="Seed", domain="seed.io")
    with (
        ServedApp(sb.app) as served,
        httpx.Client(
            base_url=served.url, headers={"x-api-key": sb.issue_api_key()}, timeout=30
        ) as http,
    ):
        yield sb, http


def apollo_ok(answer: httpx.Response) -> None:
    assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    if answer.status_code >= 400 and "json" in answer.headers.get("content-type", ""):
        assert isinstance(answer.json(), dict)


@FUZZ
@given(
    route=st.sampled_from(
        [
            ("POST", "accounts"),
            ("PATCH", "accounts/{seed}"),
            ("POST", "accounts/bulk_create"),
            ("POST", "accounts/bulk_update"),
            ("POST", "accounts/search"),
            ("POST", "accounts/update_owners"),
            ("GET", "users/search"),
            ("POST", "usage_stats/api_usage_stats"),
            ("POST", "oauth/token"),
        ]
    ),
    body=bodies,
    params=st.dictionaries(
        st.sampled_from(
            [
                "page",
                "per_page",
                "account_ids[]",
                "owner_id",
                "q_organization_name",
                "sort_by_field",
                "sort_ascending",
                "run_dedupe",
            ]
        ),
        st.text(max_size=20) | st.integers().map(str),
        max_size=3,
    ),
)
def test_apollo_any_body_and_params(
    apollo: Any, route: tuple[str, str], body: bytes, params: dict[str, str]
) -> None:
    sb, http = apollo
    seed = sb.accounts()[0]["id"]
    method, path = route
    apollo_ok(
        http.request(
            method,
            f"/api/v1/{path.format(seed=seed)}",
            content=body,
            params=params,
            headers={"content-type": "application/json"},
        )
    )


@FUZZ
@given(
    items=st.lists(json_values | records, max_size=4),
    extra=st.dictionaries(
        st.sampled_from(
            ["run_dedupe", "async", "account_ids", "owner_id", "name", "typed_custom_fields"]
        ),
        json_values,
        max_size=3,
    ),
)
def test_apollo_account_items_of_any_type(
    apollo: Any, items: list[Any], extra: dict[str, Any]
) -> None:
    _, http = apollo
    apollo_ok(http.post("/api/v1/accounts/bulk_create", json={"accounts": items, **extra}))
    apollo_ok(
        http.post("/api/v1/accounts/bulk_update", json={"account_attributes": items, **extra})
    )
    apollo_ok(http.post("/api/v1/accounts/search", json=extra))


@FUZZ
@given(
    path=st.sampled_from(
        [
            "users",
            "accounts",
            "custom_fields",
            "api_keys",
            "oauth_apps",
            "knobs",
            "faults",
            "clock",
            "holds",
            "release",
        ]
    ),
    method=st.sampled_from(["POST", "PATCH", "DELETE"]),
    body=bodies,
)
def test_apollo_admin_surface(apollo: Any, path: str, method: str, body: bytes) -> None:
    sb, http = apollo
    try:
        answer = http.request(method, f"/__admin__/{path}", content=body)
        assert answer.status_code < 500, (answer.status_code, answer.text[:300])
    finally:
        sb.knobs.clear_faults()
        for key in ("latency", "latency_after_commit", "error_rate_5xx"):
            setattr(sb.knobs, key, 0.0)
        sb.knobs.fail_after_commit = False
        sb.knobs.expire_tokens_every = 0
        sb.knobs.per_page_max, sb.knobs.display_cap = 100, 50_000
        sb.knobs.set_rate_limits(None, None, None)
        sb.holds.rules.clear()
        sb.holds.release()


@FUZZ
@given(
    name=st.sampled_from(["Account", "Contact", "Nope"]),
    window=st.dictionaries(
        st.sampled_from(["start", "end"]),
        st.text(max_size=30)
        | st.sampled_from(
            ["2026-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-05:00"]
        ),
        max_size=2,
    ),
    fields=st.text(max_size=40),
)
def test_salesforce_replication_and_reads(
    salesforce: Any, name: str, window: dict[str, str], fields: str
) -> None:
    sb, http = salesforce
    seed = next(iter(sb.org.rows("Account")))["Id"]
    for kind in ("updated", "deleted"):
        sf_error_shape(http.get(f"{V}/sobjects/{name}/{kind}/", params=window))
    sf_error_shape(http.get(f"{V}/sobjects/{name}/{seed}", params={"fields": fields}))
    sf_error_shape(http.get(f"{V}/limits/recordCount", params={"sObjects": fields}))


CSV_HEADERS = [
    "Id",
    "Name",
    "LastName",
    "Email",
    "AccountId",
    "NumberOfEmployees",
    "CreatedDate",
    "Account.Name",
    "Nope__c",
    "",
]
csv_cells = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]), max_size=15
) | st.sampled_from(["#N/A", "1e400", "nan", "2024-13-45", '"', "001" + "0" * 15])


@FUZZ
@given(
    operation=st.sampled_from(["insert", "update", "upsert", "delete", "hardDelete"]),
    sobject=st.sampled_from(["Account", "Contact"]),
    header=st.lists(st.sampled_from(CSV_HEADERS), min_size=1, max_size=4),
    rows=st.lists(st.lists(csv_cells, max_size=5), max_size=5),
    raw=st.none() | st.binary(max_size=200),
)
def test_salesforce_bulk_ingest_of_any_csv(
    salesforce: Any,
    operation: str,
    sobject: str,
    header: list[str],
    rows: list[list[str]],
    raw: bytes | None,
) -> None:
    """A Bulk job of any CSV finishes (JobComplete or Failed), never stuck InProgress."""
    _, http = salesforce
    body: dict[str, Any] = {"object": sobject, "operation": operation}
    if operation == "upsert":
        body["externalIdFieldName"] = "Email" if sobject == "Contact" else "Id"
    created = http.post(f"{V}/jobs/ingest/", json=body)
    sf_error_shape(created)
    job = created.json()["id"]
    if raw is None:
        raw = (
            "\n".join(",".join(json.dumps(c) for c in row) for row in [header, *rows]).encode()
            + b"\n"
        )
    sf_error_shape(
        http.put(
            f"{V}/jobs/ingest/{job}/batches/", content=raw, headers={"Content-Type": "text/csv"}
        )
    )
    sf_error_shape(http.patch(f"{V}/jobs/ingest/{job}/", json={"state": "UploadComplete"}))
    deadline = time.monotonic() + 20
    while (state := http.get(f"{V}/jobs/ingest/{job}/").json()["state"]) not in (
        "JobComplete",
        "Failed",
    ):
        assert time.monotonic() < deadline, f"job stuck {state}"
        time.sleep(0.01)
    for kind in ("successfulResults", "failedResults", "unprocessedrecords"):
        sf_error_shape(http.get(f"{V}/jobs/ingest/{job}/{kind}/"))
