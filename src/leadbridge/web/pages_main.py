"""Pages: sign-in, the overview (live through HTMX), runs with their journal and undo, the plan
preview, the error log with retry. Forms post with the session's CSRF token."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from leadbridge.engine.errors import retry_errors
from leadbridge.hub.tables import ErrorLogEntry, JournalEntry, SyncRun, utcnow
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.web import operations
from leadbridge.web.accounts import SignedIn, authenticate, close_session, open_session
from leadbridge.web.render import page
from leadbridge.web.security import SESSION_COOKIE, check_csrf, page_user, web_state
from leadbridge.web.serialize import error_json, journal_json, run_json
from leadbridge.web.state import WebState
from leadbridge.web.status import status_json

router = APIRouter(include_in_schema=False)


async def signed_in(request: Request) -> SignedIn:
    signed = page_user(request)
    await check_csrf(request, signed)
    return signed


User = Annotated[SignedIn, Depends(signed_in)]


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return page(request, "login.html", error=None)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    state = web_state(request)
    account = authenticate(state.hub, username, password)
    if account is None:
        return page(request, "login.html", status_code=401, error="wrong user name or password")
    cookie, _ = open_session(state.hub, account)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=state.secure_cookies,
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, user: User) -> Response:
    close_session(web_state(request).hub, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# --- overview ------------------------------------------------------------------------------


def activity(state: WebState, hours: int = 24) -> dict[str, Any]:
    """Per hour of the last `hours`: runs, records touched, API calls and errors."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=hours - 1)
    labels = [f"{(start + timedelta(hours=i)):%H}:00" for i in range(hours)]
    series = {k: [0.0] * hours for k in ("runs", "records", "calls", "errors")}

    def slot(at: Any) -> int | None:
        i = int((at - start).total_seconds() // 3600)
        return i if 0 <= i < hours else None

    ws = state.hub.workspace_id
    with state.hub.session() as s:
        for started, counts, calls in s.execute(
            select(SyncRun.started_at, SyncRun.counts, SyncRun.api_calls).where(
                SyncRun.workspace_id == ws, SyncRun.started_at >= start
            )
        ):
            i = slot(started)
            if i is not None:
                series["runs"][i] += 1
                series["records"][i] += sum(
                    v for v in (counts or {}).values() if isinstance(v, int | float)
                )
                series["calls"][i] += calls or 0
        for (at,) in s.execute(
            select(ErrorLogEntry.created_at).where(
                ErrorLogEntry.workspace_id == ws, ErrorLogEntry.created_at >= start
            )
        ):
            i = slot(at)
            if i is not None:
                series["errors"][i] += 1
    return {"labels": labels, **series}


def _overview(request: Request, name: str) -> HTMLResponse:
    state = web_state(request)
    return page(
        request,
        name,
        status=status_json(state),
        activity=activity(state),
        jobs=operations.jobs_known(state),
    )


@router.get("/")
def overview(request: Request, user: User) -> HTMLResponse:
    return _overview(request, "overview.html")


@router.get("/partials/overview")
def overview_live(request: Request, user: User) -> HTMLResponse:
    return _overview(request, "overview_live.html")


# --- runs ----------------------------------------------------------------------------------


@router.get("/runs")
def runs(request: Request, user: User, message: str | None = None) -> HTMLResponse:
    state = web_state(request)
    with state.hub.session() as s:
        rows = [
            run_json(r)
            for r in s.scalars(
                select(SyncRun)
                .where(SyncRun.workspace_id == state.hub.workspace_id)
                .order_by(SyncRun.id.desc())
                .limit(100)
            )
        ]
    return page(request, "runs.html", runs=rows, jobs=operations.jobs_known(state), message=message)


@router.post("/runs")
async def start_run(
    request: Request,
    user: User,
    job: Annotated[str, Form(max_length=40)],
    sync: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    state = web_state(request)
    try:
        outcome = await operations.start_job(state, job, sync or None)
    except (LeaseHeld, operations.OperationRefused) as exc:
        return runs(request, user, message=str(exc))
    if outcome.finished:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(outcome.counts.items()) if v)
        summary = counts or "nothing to do"
        text = f"{job} of {outcome.sync}: run {outcome.run_id} {outcome.status} ({summary})"
    else:
        text = f"{job} of {outcome.sync or 'the sync'} is still running; this list shows it"
    return runs(request, user, message=text)


def _run(state: WebState, run_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    with state.hub.session() as s:
        run = s.get(SyncRun, run_id)
        if run is None or run.workspace_id != state.hub.workspace_id:
            return None
        journal = [
            journal_json(e)
            for e in s.scalars(
                select(JournalEntry).where(JournalEntry.run_id == run_id).order_by(JournalEntry.id)
            )
        ]
        data = run_json(run)
        data["sync"] = operations.sync_of_run(state, run)
        return data, journal


@router.get("/runs/{run_id}")
def run_detail(request: Request, user: User, run_id: int) -> HTMLResponse:
    found = _run(web_state(request), run_id)
    if found is None:
        return page(request, "problem.html", status_code=404, message=f"no run {run_id}")
    run, journal = found
    return page(request, "run.html", run=run, journal=journal, undone=None, confirm=False)


@router.get("/runs/{run_id}/undo")
def undo_confirm(request: Request, user: User, run_id: int) -> HTMLResponse:
    found = _run(web_state(request), run_id)
    if found is None:
        return page(request, "problem.html", status_code=404, message=f"no run {run_id}")
    run, journal = found
    return page(request, "run.html", run=run, journal=journal, undone=None, confirm=True)


@router.post("/runs/{run_id}/undo")
async def undo(request: Request, user: User, run_id: int) -> HTMLResponse:
    state = web_state(request)
    result = await operations.undo(state, run_id)
    found = _run(state, run_id)
    assert found is not None
    run, journal = found
    return page(request, "run.html", run=run, journal=journal, undone=result, confirm=False)


# --- plan ----------------------------------------------------------------------------------


@router.get("/plan")
async def plan(
    request: Request, user: User, sync: Annotated[str | None, Query(max_length=100)] = None
) -> HTMLResponse:
    state = web_state(request)
    names = [*operations.crm_syncs(state)] + [
        c.name for c in state.connections.all() if c.kind == "apollo"
    ]
    chosen = sync if sync in names else (names[0] if names else None)
    rows: list[Any] = []
    counts: dict[str, int] = {}
    if chosen:
        rows, counts = await operations.plan_rows(state, chosen)
    return page(request, "plan.html", names=names, chosen=chosen, rows=rows[:500], counts=counts)


# --- errors --------------------------------------------------------------------------------


@router.get("/errors")
def errors(
    request: Request,
    user: User,
    job: Annotated[str | None, Query(max_length=60)] = None,
    error_class: Annotated[str | None, Query(alias="class", max_length=30)] = None,
    field: Annotated[str | None, Query(max_length=120)] = None,
    message: str | None = None,
) -> HTMLResponse:
    state = web_state(request)
    ws = state.hub.workspace_id
    query = select(ErrorLogEntry).where(
        ErrorLogEntry.workspace_id == ws, ErrorLogEntry.resolved_at.is_(None)
    )
    if job:
        query = query.where(ErrorLogEntry.job == job)
    if error_class:
        query = query.where(ErrorLogEntry.error_class == error_class)
    if field:
        query = query.where(ErrorLogEntry.field == field)
    with state.hub.session() as s:
        rows = [
            error_json(e) for e in s.scalars(query.order_by(ErrorLogEntry.id.desc()).limit(500))
        ]
        facets = {
            name: sorted(
                v
                for (v,) in s.execute(
                    select(column)
                    .where(ErrorLogEntry.workspace_id == ws, ErrorLogEntry.resolved_at.is_(None))
                    .group_by(column)
                )
                if v
            )
            for name, column in (
                ("job", ErrorLogEntry.job),
                ("class", ErrorLogEntry.error_class),
                ("field", ErrorLogEntry.field),
            )
        }
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    return page(
        request,
        "errors.html",
        errors=rows,
        total=total,
        facets=facets,
        chosen={"job": job, "class": error_class, "field": field},
        message=message,
    )


@router.post("/errors/retry")
def retry(
    request: Request, user: User, error_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None
) -> HTMLResponse:
    count = retry_errors(web_state(request).hub, [error_id] if error_id else None)
    what = f"error {error_id}" if error_id else "every open error"
    return errors(
        request, user, message=f"{what}: {count} record(s) will be retried on the next run"
    )
