"""The REST API: every route refuses a missing token and, for writes, a read-only one; people and
companies through the hub's write path (a person created through the API is in the Salesforce
sandbox one tick later); clear 4xx for bad input; imports, errors and retry, runs and undo."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from leadbridge.hub.connections import Connections
from leadbridge.hub.tables import ApiToken, OutboxItem, Person, WebUser, utcnow
from leadbridge.policy.crm import PolicyFile

from .crm_world import CrmWorld
from .web_world import Web, make_web

SAFE = ("GET", "HEAD")


@pytest.fixture
def web(connections: Connections) -> Web:
    return make_web(connections)


@pytest.fixture
def crm_web(crm: CrmWorld) -> tuple[CrmWorld, Web]:
    return crm, make_web(crm.connections, PolicyFile(syncs={"salesforce": crm.policy}))


def api_routes(web: Web) -> list[tuple[str, str]]:
    """Every route of the OpenAPI document that needs a token (all but /healthz)."""
    schema = web.client.app.openapi()  # type: ignore[attr-defined]
    out = []
    for path, methods in schema["paths"].items():
        if path == "/healthz":
            continue
        for method in methods:
            out.append((method.upper(), re.sub(r"\{(\w+)\}", lambda m: _sample(m.group(1)), path)))
    return out


def _sample(name: str) -> str:
    return {"kind": "people", "sync": "salesforce"}.get(name, "1")


def test_every_route_refuses_a_missing_token_and_writes_refuse_a_read_token(web: Web) -> None:
    routes = api_routes(web)
    assert len(routes) >= 18, routes
    for method, path in routes:
        missing = web.api(method, path, token=None, json={})
        assert missing.status_code == 401, (method, path, missing.text)
        assert missing.json()["error"].startswith("an API token is required")
        wrong = web.api(
            method, path, token=None, json={}, headers={"Authorization": "Bearer lbt_x"}
        )
        assert wrong.status_code == 401, (method, path)
        read = web.api(method, path, token="read", json={})
        if method in SAFE:
            assert read.status_code not in (401, 403), (method, path, read.text)
        else:
            assert read.status_code == 403, (method, path, read.text)
            assert "read-only" in read.json()["error"]


def test_tokens_and_passwords_are_only_hashes_at_rest(web: Web) -> None:
    with web.state.hub.session() as s:
        hashes = [t.token_hash for t in s.scalars(select(ApiToken))]
        (user,) = s.scalars(select(WebUser))
    assert web.read not in hashes and web.write not in hashes and len(hashes) == 2
    assert user.password_hash.startswith("$argon2id$")
    raw = (web.state.hub.engine.url.database or "").strip()
    data = open(raw, "rb").read()  # noqa: SIM115 — the whole database file as bytes
    assert web.read.encode() not in data and web.write.encode() not in data


def test_people_and_companies_go_through_the_write_path(web: Web) -> None:
    made = web.api(
        "POST",
        "/api/v1/companies",
        json={"domain": "https://www.Acme.io/x", "name": "Acme", "icp_fit": "great"},
    )
    assert made.status_code == 201, made.text
    company = made.json()
    assert (company["domain"], company["icp_fit"]) == ("acme.io", "strong")
    person = web.api(
        "POST",
        "/api/v1/people",
        json={
            "email": "Ada@Acme.io",
            "first_name": "Ada",
            "company": "acme.io",
            "email_status": "verified",
        },
    )
    assert person.status_code == 201, person.text
    pid = person.json()["id"]
    assert person.json()["company_id"] == company["id"]
    changed = web.api("PATCH", f"/api/v1/people/{pid}", json={"title": "CTO", "first_name": "Ada"})
    assert changed.json()["changed"] == ["title"]
    with web.state.hub.session() as s:
        queued = [(o.hub_object, o.hub_id, o.fields) for o in s.scalars(select(OutboxItem))]
        stamped = s.get(Person, pid)
        assert stamped is not None and "title" in (stamped.field_changed_at or {})
    assert ("person", pid, ["title"]) in queued  # queued for the CRMs like any hub edit
    got = web.api("GET", "/api/v1/people", token="read", params={"email": "ADA@acme.io"}).json()
    assert got["total"] == 1 and got["items"][0]["title"] == "CTO"
    tagged = web.api("PATCH", f"/api/v1/people/{pid}", json={"tags": "Webinar; q3"})
    assert tagged.json()["changed"] == ["tags"]
    assert web.api("GET", f"/api/v1/people/{pid}").json()["tags"] == ["q3", "webinar"]
    other = web.api("POST", "/api/v1/people", json={"email": "bo@acme.io", "last_name": "Bo"})
    listed = web.api("GET", "/api/v1/people", token="read", params={"company_id": company["id"]})
    tags = {p["id"]: p["tags"] for p in listed.json()["items"]}
    assert tags.get(pid) == ["q3", "webinar"] and tags.get(other.json()["id"], []) == []
    web.login()
    assert "tags q3; webinar" in web.client.get(f"/records/person/{pid}").text


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("POST", "/api/v1/people", {"first_name": "No e-mail"}, 422, "email is required"),
        ("POST", "/api/v1/people", {"email": "not-an-address"}, 422, "valid"),
        ("POST", "/api/v1/people", {"email": "a@b.io", "bogus": "1"}, 422, "unknown person field"),
        (
            "POST",
            "/api/v1/people",
            {"email": "a@b.io", "owner": "nobody@x.io"},
            422,
            "not a hub user",
        ),
        ("POST", "/api/v1/people", [], 422, "body"),
        ("POST", "/api/v1/people", {}, 422, "at least one field"),
        ("POST", "/api/v1/companies", {"name": "No domain"}, 422, "domain"),
        (
            "POST",
            "/api/v1/companies",
            {"domain": "x.io", "employee_count": "lots"},
            422,
            "whole number",
        ),
        ("PATCH", "/api/v1/people/999", {"title": "X"}, 404, "no person 999"),
        ("GET", "/api/v1/people?limit=0", None, 422, "limit"),
        ("GET", "/api/v1/people/abc", None, 422, "person_id"),
        ("POST", "/api/v1/runs", {"job": "explode"}, 422, "job"),
        ("POST", "/api/v1/runs", {"job": "pull"}, 422, "no CRM sync"),
        ("POST", "/api/v1/runs/1/undo", None, 422, "no run 1"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    web: Web, method: str, path: str, body: Any, status: int, says: str
) -> None:
    response = web.api(method, path, json=body)
    assert response.status_code == status, response.text
    assert says in response.json()["error"], response.json()


def test_duplicates_are_conflicts_not_second_records(web: Web) -> None:
    assert web.api("POST", "/api/v1/people", json={"email": "a@b.io"}).status_code == 201
    again = web.api("POST", "/api/v1/people", json={"email": "A@B.IO"})
    assert again.status_code == 409 and "exists" in again.json()["error"]
    other = web.api("POST", "/api/v1/people", json={"email": "c@b.io"}).json()
    taken = web.api("PATCH", f"/api/v1/people/{other['id']}", json={"email": "a@b.io"})
    assert taken.status_code == 409
    listed = web.api("GET", "/api/v1/people", token="read", params={"limit": 1}).json()
    assert listed["total"] == 2 and listed["next"] and "offset=1" in listed["next"]


def test_csv_import_lists_bad_rows_and_keeps_good_ones(web: Web) -> None:
    csv = "email,first_name\nok@a.io,Ok\nnot-an-address,Bad\nok@a.io,Twice\n"
    response = web.api("POST", "/api/v1/imports/people", files={"file": ("p.csv", csv, "text/csv")})
    body = response.json()
    assert response.status_code == 200 and body["created"] == 1
    assert [e["row"] for e in body["errors"]] == [3, 4]
    empty = web.api(
        "POST", "/api/v1/imports/people", files={"file": ("p.csv", b"\xff\xfe\x00", "text/csv")}
    )
    assert empty.status_code == 422


async def test_a_person_created_through_the_api_reaches_salesforce_within_one_tick(
    crm_web: tuple[CrmWorld, Web],
) -> None:
    crm, web = crm_web
    crm.activate()
    runner = web.state.runner
    assert runner is not None
    now = utcnow()
    await runner.run_due(now)  # the initial pull of an empty org
    navy = web.api("POST", "/api/v1/companies", json={"domain": "navy.mil", "name": "US Navy"})
    assert navy.status_code == 201, navy.text
    made = web.api(
        "POST",
        "/api/v1/people",
        json={
            "email": "grace@navy.mil",
            "email_status": "verified",
            "first_name": "Grace",
            "last_name": "Hopper",
            "title": "Rear Admiral",
            "company": "navy.mil",
        },
    )
    assert made.status_code == 201, made.text
    assert [r for r in crm.rows("Lead") if r["Email"] == "grace@navy.mil"] == []
    await runner.run_due(now + timedelta(seconds=5))  # one tick
    (lead,) = [r for r in crm.rows("Lead") if r["Email"] == "grace@navy.mil"]
    assert (lead["LastName"], lead["Title"], lead["Company"]) == (
        "Hopper",
        "Rear Admiral",
        "US Navy",
    )

    # A change through the API: the next tick sends it.
    web.api("PATCH", f"/api/v1/people/{made.json()['id']}", json={"title": "Commodore"})
    await runner.run_due(now + timedelta(seconds=10))
    (lead,) = [r for r in crm.rows("Lead") if r["Email"] == "grace@navy.mil"]
    assert lead["Title"] == "Commodore"

    # The runs list, a run's journal, and its undo through the API: the sandbox is restored.
    runs = web.api("GET", "/api/v1/runs", token="read").json()["items"]
    last = runs[0]
    assert last["job"].endswith("push") and last["status"] == "succeeded"
    detail = web.api("GET", f"/api/v1/runs/{last['id']}", token="read").json()
    assert any(
        e["op"] == "update" and e["after"].get("Title") == "Commodore" for e in detail["journal"]
    )
    undone = web.api("POST", f"/api/v1/runs/{last['id']}/undo")
    assert undone.status_code == 200, undone.text
    (lead,) = [r for r in crm.rows("Lead") if r["Email"] == "grace@navy.mil"]
    assert lead["Title"] == "Rear Admiral"

    # Plan and explain: the engine's own classifier.
    plan = web.api("GET", "/api/v1/plan/salesforce", token="read").json()
    assert "counts" in plan
    why = web.api("GET", f"/api/v1/explain/person/{made.json()['id']}", token="read").json()
    assert why["links"][0]["object"] == "Lead" and why["crm"]
