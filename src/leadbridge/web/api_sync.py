"""REST: status, runs (start, journal, undo), plan, explain, the error log (filter, retry) and
CSV imports. Every one calls the engine's or the hub's own function (web/operations.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from leadbridge.engine.errors import retry_errors
from leadbridge.hub.imports import ImportFileError, import_companies
from leadbridge.hub.people import import_people
from leadbridge.hub.tables import Company, ErrorLogEntry, JournalEntry, Person, SyncRun
from leadbridge.web import operations
from leadbridge.web.api_records import ApiProblem
from leadbridge.web.security import api_grant, web_state
from leadbridge.web.serialize import error_json, journal_json, links_json, run_json, stages_of
from leadbridge.web.status import status_json

router = APIRouter(prefix="/api/v1", tags=["sync"], dependencies=[Depends(api_grant)])
Id = Annotated[int, Query(ge=1, le=2**31 - 1)]
MAX_UPLOAD = 50 * 1024 * 1024


@router.get("/status")
def status(request: Request) -> dict[str, Any]:
    return status_json(web_state(request))


@router.get("/runs")
def list_runs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    job: Annotated[str | None, Query(max_length=60)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    hub = web_state(request).hub
    query = select(SyncRun).where(SyncRun.workspace_id == hub.workspace_id)
    if job:
        query = query.where(SyncRun.job == job)
    if status:
        query = query.where(SyncRun.status == status)
    with hub.session() as s:
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.scalars(query.order_by(SyncRun.id.desc()).limit(limit).offset(offset))
        return {"items": [run_json(r) for r in rows], "total": total, "limit": limit}


class RunRequest(BaseModel):
    job: Literal["pull", "push", "apollo-push"]
    sync: str | None = Field(
        None, max_length=100, description="the policy's sync (CRM jobs) or the Apollo connection"
    )
    wait: float = Field(20.0, ge=0, le=120, description="seconds to wait for the outcome")


@router.post("/runs", status_code=200)
async def start_run(request: Request, body: RunRequest) -> dict[str, Any]:
    outcome = await operations.start_job(web_state(request), body.job, body.sync, body.wait)
    return outcome.as_dict()


@router.get("/runs/{run_id}")
def get_run(request: Request, run_id: int) -> dict[str, Any]:
    hub = web_state(request).hub
    with hub.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None or run.workspace_id != hub.workspace_id:
            raise ApiProblem(404, f"no run {run_id}")
        journal = s.scalars(
            select(JournalEntry).where(JournalEntry.run_id == run_id).order_by(JournalEntry.id)
        )
        return {**run_json(run), "journal": [journal_json(e) for e in journal]}


@router.post("/runs/{run_id}/undo")
async def undo_run(request: Request, run_id: int) -> dict[str, Any]:
    return await operations.undo(web_state(request), run_id)


@router.get("/plan/{sync}")
async def plan(
    request: Request, sync: str, limit: Annotated[int, Query(ge=1, le=5000)] = 200
) -> dict[str, Any]:
    rows, counts = await operations.plan_rows(web_state(request), sync[:100])
    return {
        "counts": counts,
        "items": [
            {"record": r.record, "action": r.action, "reason": r.reason, "detail": r.detail}
            for r in rows[:limit]
        ],
    }


@router.get("/explain/person/{person_id}")
async def explain_person(request: Request, person_id: int) -> dict[str, Any]:
    state = web_state(request)
    with state.hub.session() as s:
        person = s.get(Person, person_id)
        if person is None or person.workspace_id != state.hub.workspace_id:
            raise ApiProblem(404, f"no person {person_id}")
        links = links_json(s, state.hub.workspace_id, "person", person_id)
    return {
        "person_id": person_id,
        "links": links,
        "crm": await operations.explain_person(state, person_id),
    }


@router.get("/explain/company/{company_id}")
def explain_company(request: Request, company_id: int) -> dict[str, Any]:
    state = web_state(request)
    with state.hub.session() as s:
        company = s.get(Company, company_id)
        if company is None or company.workspace_id != state.hub.workspace_id:
            raise ApiProblem(404, f"no company {company_id}")
        links = links_json(s, state.hub.workspace_id, "company", company_id)
    return {
        "company_id": company_id,
        "links": links,
        "lead_push": operations.explain_company(state, company_id),
    }


@router.get("/errors")
def list_errors(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    job: Annotated[str | None, Query(max_length=60)] = None,
    error_class: Annotated[str | None, Query(alias="class", max_length=30)] = None,
    field: Annotated[str | None, Query(max_length=120)] = None,
    hub_object: Annotated[Literal["person", "company"] | None, Query()] = None,
    include_resolved: bool = False,
) -> dict[str, Any]:
    hub = web_state(request).hub
    query = select(ErrorLogEntry).where(ErrorLogEntry.workspace_id == hub.workspace_id)
    if not include_resolved:
        query = query.where(ErrorLogEntry.resolved_at.is_(None))
    if job:
        query = query.where(ErrorLogEntry.job == job)
    if error_class:
        query = query.where(ErrorLogEntry.error_class == error_class)
    if field:
        query = query.where(ErrorLogEntry.field == field)
    if hub_object:
        query = query.where(ErrorLogEntry.hub_object == hub_object)
    with hub.session() as s:
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.scalars(query.order_by(ErrorLogEntry.id.desc()).limit(limit).offset(offset))
        return {"items": [error_json(e) for e in rows], "total": total, "limit": limit}


class RetryRequest(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        None, max_length=10_000, description="error ids; none: every open error"
    )


@router.post("/errors/retry")
def retry(request: Request, body: RetryRequest) -> dict[str, Any]:
    count = retry_errors(web_state(request).hub, body.ids or None)
    return {"records_to_retry": count}


@router.post("/imports/{kind}")
async def upload(
    request: Request, kind: Literal["people", "companies"], file: UploadFile, strict: bool = False
) -> dict[str, Any]:
    state = web_state(request)
    return await run_import(state, kind, file, strict)


async def run_import(state: Any, kind: str, file: UploadFile, strict: bool) -> dict[str, Any]:
    """Save the upload to a temporary file and import it as the CLI does."""
    with tempfile.TemporaryDirectory(prefix="leadbridge-upload-") as tmp:
        path = Path(tmp) / "upload.csv"
        size = 0
        with path.open("wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > MAX_UPLOAD:
                    raise ApiProblem(413, f"the file is larger than {MAX_UPLOAD // 2**20} MB")
                out.write(chunk)
        try:
            if kind == "people":
                report = import_people(state.hub, path, strict=strict)
            else:
                report = import_companies(state.hub, path, stages_of(state), strict=strict)
        except ImportFileError as exc:
            raise ApiProblem(422, str(exc)) from None
    return {
        "kind": kind,
        "written": report.written,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "read_as": report.read_as,
        "errors": [{"row": n, "reason": why} for n, why in report.errors],
    }
