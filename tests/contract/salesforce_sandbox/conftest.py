"""An HTTP client on the served Salesforce sandbox, and Bulk API 2.0 job helpers."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ..conftest import ServedOrg

CSV = {"Content-Type": "text/csv; charset=UTF-8"}


def trusting(sf_org: ServedOrg) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sf_org.ca))


@pytest.fixture
def api(sf_org: ServedOrg) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{sf_org.url}/services/data/v59.0/",
        verify=trusting(sf_org),
        headers=sf_org.auth(),
        trust_env=False,
        timeout=30,
    ) as client:
        yield client


def wait_for(api: httpx.Client, kind: str, job_id: str, limit: float = 20.0) -> dict[str, Any]:
    """Polls a job until it is finished, as a client does."""
    deadline = time.monotonic() + limit
    while True:
        info: dict[str, Any] = api.get(f"jobs/{kind}/{job_id}").json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        assert time.monotonic() < deadline, f"job still {info['state']}"
        time.sleep(0.01)


def ingest(
    api: httpx.Client,
    sobject: str,
    operation: str,
    *uploads: str,
    ext: str | None = None,
    **options: str,
) -> dict[str, Any]:
    """Create, upload, close and wait: the finished job's info."""
    body: dict[str, Any] = {"object": sobject, "operation": operation, "contentType": "CSV"}
    body |= {"lineEnding": "LF", "columnDelimiter": "COMMA"} | options
    if ext:
        body["externalIdFieldName"] = ext
    created = api.post("jobs/ingest/", json=body)
    assert created.status_code == 200, created.text
    job_id = created.json()["id"]
    for data in uploads:
        put = api.put(f"jobs/ingest/{job_id}/batches/", content=data.encode(), headers=CSV)
        assert (put.status_code, put.content) == (201, b"")
    closed = api.patch(f"jobs/ingest/{job_id}/", json={"state": "UploadComplete"})
    assert closed.status_code == 200 and closed.json()["state"] == "UploadComplete"
    return wait_for(api, "ingest", job_id)


def results(api: httpx.Client, job_id: str, kind: str) -> str:
    response = api.get(f"jobs/ingest/{job_id}/{kind}/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return response.text
