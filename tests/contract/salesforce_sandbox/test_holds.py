"""The sandbox's held requests and bulk pacing: what chaos tests stand on. A request held
"before" and dropped never happens; one held "after" has landed when its answer is withheld."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from ..conftest import ServedOrg
from .conftest import CSV, trusting, wait_for


def admin(sf_org: ServedOrg) -> httpx.Client:
    return httpx.Client(base_url=sf_org.url, verify=trusting(sf_org), trust_env=False, timeout=30)


def held(sf_org: ServedOrg, limit: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + limit
    with admin(sf_org) as a:
        while time.monotonic() < deadline:
            waiting: list[dict[str, Any]] = a.get("/__admin__/held").json()
            if waiting:
                return waiting
            time.sleep(0.02)
    raise AssertionError("nothing was held")


def in_background(call: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    return thread, out


def contacts(sf_org: ServedOrg) -> list[str]:
    return [r["LastName"] for r in sf_org.sandbox.org.rows("Contact") if not r["IsDeleted"]]


def test_held_before_and_dropped_never_happens(api: httpx.Client, sf_org: ServedOrg) -> None:
    with admin(sf_org) as a:
        a.post("/__admin__/holds", json={"method": "POST", "path": "/sobjects/Contact/$"})
    thread, out = in_background(lambda: api.post("sobjects/Contact/", json={"LastName": "Gone"}))
    (waiting,) = held(sf_org)
    assert (waiting["method"], waiting["when"]) == ("POST", "before")
    with admin(sf_org) as a:
        assert a.post("/__admin__/release", json={"drop": True}).json() == {"released": 1}
    thread.join(10)
    assert out[0].status_code == 503
    assert "Gone" not in contacts(sf_org)
    # The hold is spent: the next request goes through.
    assert api.post("sobjects/Contact/", json={"LastName": "Here"}).status_code == 201


def test_held_after_has_landed_before_its_answer(api: httpx.Client, sf_org: ServedOrg) -> None:
    with admin(sf_org) as a:
        a.post(
            "/__admin__/holds",
            json={"method": "POST", "path": "/sobjects/Contact/$", "when": "after"},
        )
    thread, out = in_background(lambda: api.post("sobjects/Contact/", json={"LastName": "Lost"}))
    held(sf_org)
    assert "Lost" in contacts(sf_org)  # applied, the caller has heard nothing yet
    assert not out
    with admin(sf_org) as a:
        a.post("/__admin__/release", json={})
    thread.join(10)
    assert out[0].status_code == 201


def test_paced_bulk_job_stays_in_progress(api: httpx.Client, sf_org: ServedOrg) -> None:
    sf_org.sandbox.knobs.bulk_rows_per_second = 50
    job = api.post(
        "jobs/ingest/", json={"object": "Contact", "operation": "insert", "lineEnding": "LF"}
    ).json()["id"]
    rows = "".join(f"P{i}\n" for i in range(20))
    api.put(f"jobs/ingest/{job}/batches/", content=("LastName\n" + rows).encode(), headers=CSV)
    api.patch(f"jobs/ingest/{job}/", json={"state": "UploadComplete"})
    time.sleep(0.1)
    info = api.get(f"jobs/ingest/{job}/").json()
    assert info["state"] in ("UploadComplete", "InProgress")
    assert len(contacts(sf_org)) < 20
    assert wait_for(api, "ingest", job)["numberRecordsProcessed"] == 20
    assert len(contacts(sf_org)) == 20
