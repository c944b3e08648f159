"""Bulk API 2.0 query jobs over HTTPS on the real sandbox app (locator paging, CSV shape,
errors), and job states pinned down with a held runner on a plain Bulk router."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from leadbridge.sandbox.salesforce.bulk import bulk_router
from leadbridge.sandbox.salesforce.org import Org
from leadbridge.sandbox.server import ServedApp

from ..conftest import ServedOrg
from .conftest import CSV, wait_for


def start_query(api: httpx.Client, text: str, operation: str = "query") -> dict[str, Any]:
    created = api.post("jobs/query", json={"operation": operation, "query": text})
    assert created.status_code == 200, created.text
    return dict(created.json())


def test_results_page_by_locator(api: httpx.Client, sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    acme = org.create("Account", {"Name": "Acme, Inc."}).id
    ids = {}
    for i in range(25):
        fields = {"LastName": f"Q{i:02d}", "AccountId": acme if i % 2 else None}
        ids[f"Q{i:02d}"] = org.create("Contact", fields).id
    org.create("Contact", {"LastName": "Other"})
    job = start_query(
        api,
        "SELECT Id, lastname, Account.Name, IsDeleted, CreatedDate FROM Contact "
        "WHERE LastName LIKE 'q%' ORDER BY LastName DESC",
    )
    assert (job["state"], job["operation"], job["object"]) == ("UploadComplete", "query", "Contact")
    info = wait_for(api, "query", job["id"])
    assert (info["state"], info["jobType"], info["numberRecordsProcessed"]) == (
        "JobComplete",
        "V2Query",
        25,
    )

    pages, locator, names = [], "", []
    while True:
        params = {"maxRecords": "10"} | ({"locator": locator} if locator else {})
        page = api.get(f"jobs/query/{job['id']}/results", params=params)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/csv")
        pages.append((page.headers["Sforce-NumberOfRecords"], page.headers["Sforce-Locator"]))
        rows = list(csv.reader(io.StringIO(page.text)))
        assert (
            page.text.splitlines()[0] == '"Id","LastName","Account.Name","IsDeleted","CreatedDate"'
        )
        names += [r[1] for r in rows[1:]]
        locator = page.headers["Sforce-Locator"]
        if locator == "null":
            break
    assert pages == [("10", "MTA"), ("10", "MjA"), ("5", "null")]
    assert names == [f"Q{i:02d}" for i in reversed(range(25))]

    first = api.get(f"jobs/query/{job['id']}/results", params={"maxRecords": "2"}).text
    (q24, q23) = list(csv.reader(io.StringIO(first)))[1:]
    assert q24[:4] == [ids["Q24"], "Q24", "", "false"]  # no account: an empty cell
    assert q23[:4] == [ids["Q23"], "Q23", "Acme, Inc.", "false"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", q24[4])


def test_query_all_sees_the_recycle_bin(api: httpx.Client, sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    kept, binned = (org.create("Lead", {"LastName": n, "Company": "C"}).id for n in ("K", "B"))
    org.delete("Lead", str(binned))

    def ids(operation: str) -> set[str]:
        job = start_query(api, "SELECT Id, IsDeleted FROM Lead", operation)
        assert wait_for(api, "query", job["id"])["state"] == "JobComplete"
        text = api.get(f"jobs/query/{job['id']}/results").text
        return {row[0] for row in list(csv.reader(io.StringIO(text)))[1:]}

    assert ids("query") == {kept}
    assert ids("queryAll") == {kept, binned}


def test_query_job_errors(api: httpx.Client) -> None:
    def refused(text: str) -> tuple[int, str, str]:
        r = api.post("jobs/query", json={"operation": "query", "query": text})
        return r.status_code, r.json()[0]["errorCode"], r.json()[0]["message"]

    status, code, message = refused("SELECT Id, Foo FROM Lead")
    assert (status, code) == (400, "INVALID_FIELD")
    assert message.startswith(
        "\nSELECT Id, Foo FROM Lead\n           ^\nERROR at Row:1:Column:12\n"
    )
    assert refused("SELECT Id FROM Nope")[:2] == (400, "INVALID_TYPE")
    assert refused("SELECT Id FROM Lead WHERE")[:2] == (400, "MALFORMED_QUERY")
    assert refused("SELECT Id FROM Lead OFFSET 5")[:2] == (400, "INVALIDJOB")
    assert refused("SELECT COUNT() FROM Lead")[:2] == (400, "INVALIDJOB")
    bad_op = api.post("jobs/query", json={"operation": "insert", "query": "SELECT Id FROM Lead"})
    assert bad_op.status_code == 400
    unknown = api.get("jobs/query/7505g0000000001AAA/results")
    assert (unknown.status_code, unknown.json()[0]["errorCode"]) == (404, "NOT_FOUND")

    job = start_query(api, "SELECT Id FROM Lead")
    wait_for(api, "query", job["id"])
    bad = api.get(f"jobs/query/{job['id']}/results", params={"locator": "!!"})
    assert (bad.status_code, bad.json()[0]["errorCode"]) == (400, "INVALID_QUERY_LOCATOR")
    zero = api.get(f"jobs/query/{job['id']}/results", params={"maxRecords": "0"})
    assert zero.status_code == 400
    empty = api.get(f"jobs/query/{job['id']}/results")
    assert (empty.text, empty.headers["Sforce-NumberOfRecords"]) == ('"Id"\n', "0")
    assert [j["id"] for j in api.get("jobs/query").json()["records"]] == [job["id"]]
    assert api.delete(f"jobs/query/{job['id']}").status_code == 204
    assert api.get(f"jobs/query/{job['id']}").status_code == 404


# --- states, with jobs run only when the test says so ------------------------------------


@pytest.fixture
def held() -> Iterator[tuple[httpx.Client, Org, list[Callable[[], None]]]]:
    org = Org(seed=9)
    waiting: list[Callable[[], None]] = []
    app = FastAPI()
    api = APIRouter(prefix="/services/data/v{version}")
    api.include_router(bulk_router(org, runner=waiting.append))  # no session check: the org's
    app.include_router(api)  # integration user acts
    with (
        ServedApp(app) as served,
        httpx.Client(base_url=f"{served.url}/services/data/v60.0/", trust_env=False) as client,
    ):
        yield client, org, waiting


def test_query_results_wait_for_the_job(held: tuple[httpx.Client, Org, list[Any]]) -> None:
    client, org, waiting = held
    org.create("Lead", {"LastName": "L", "Company": "C"})
    job = client.post("jobs/query", json={"operation": "query", "query": "SELECT Id FROM Lead"})
    assert job.json()["apiVersion"] == 60.0 and job.json()["createdById"] == org.integration_user
    job_id = job.json()["id"]
    early = client.get(f"jobs/query/{job_id}/results")
    assert (early.status_code, early.json()[0]["errorCode"]) == (412, "JOB_NOT_COMPLETE")
    waiting.pop()()
    assert client.get(f"jobs/query/{job_id}").json()["state"] == "JobComplete"
    assert client.get(f"jobs/query/{job_id}/results").headers["Sforce-NumberOfRecords"] == "1"


def test_an_aborted_query_never_runs(held: tuple[httpx.Client, Org, list[Any]]) -> None:
    client, _, waiting = held
    job_id = client.post(
        "jobs/query", json={"operation": "query", "query": "SELECT Id FROM Lead"}
    ).json()["id"]
    assert client.patch(f"jobs/query/{job_id}", json={"state": "Aborted"}).status_code == 200
    waiting.pop()()
    assert client.get(f"jobs/query/{job_id}").json()["state"] == "Aborted"
    assert client.get(f"jobs/query/{job_id}/results").status_code == 412


def test_ingest_aborted_between_close_and_start(
    held: tuple[httpx.Client, Org, list[Any]],
) -> None:
    client, org, waiting = held
    job_id = client.post("jobs/ingest", json={"object": "Lead", "operation": "insert"}).json()["id"]
    client.put(f"jobs/ingest/{job_id}/batches", content="LastName,Company\nA,C\n", headers=CSV)
    closed = client.patch(f"jobs/ingest/{job_id}", json={"state": "UploadComplete"}).json()
    assert closed["state"] == "UploadComplete"
    info = client.get(f"jobs/ingest/{job_id}").json()
    assert (info["state"], info["numberRecordsProcessed"]) == ("UploadComplete", 0)
    early = client.get(f"jobs/ingest/{job_id}/successfulResults")
    assert (early.status_code, early.json()[0]["errorCode"]) == (412, "JOB_NOT_COMPLETE")
    assert client.patch(f"jobs/ingest/{job_id}", json={"state": "Aborted"}).status_code == 200
    waiting.pop()()
    assert client.get(f"jobs/ingest/{job_id}").json()["state"] == "Aborted"
    assert list(org.rows("Lead")) == []
    assert (
        client.get(f"jobs/ingest/{job_id}/unprocessedrecords").text
        == '"LastName","Company"\n"A","C"\n'
    )
