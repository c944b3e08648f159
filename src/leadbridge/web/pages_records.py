"""Pages: record lookup (a company or person with its links, the values last pushed and pulled,
why it did or did not sync, and an edit form on the hub's one write path), CSV imports with their
row errors, and the signed-in user's API tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy import func, or_, select

from leadbridge.connectors.errors import ConnectorError
from leadbridge.hub.edits import EditError, edit
from leadbridge.hub.people import company_changes, person_changes
from leadbridge.hub.tables import Company, CrmRecord, Person
from leadbridge.normalize import normalize_domain
from leadbridge.policy.crm import UnknownSync
from leadbridge.web import operations
from leadbridge.web.accounts import AccountError, create_token, list_tokens, revoke_token
from leadbridge.web.api_records import ApiProblem
from leadbridge.web.api_sync import run_import
from leadbridge.web.pages_main import User
from leadbridge.web.render import page
from leadbridge.web.security import web_state
from leadbridge.web.serialize import (
    company_json,
    links_json,
    people_json,
    person_json,
    stages_of,
)

router = APIRouter(include_in_schema=False)
PERSON_FORM = ("first_name", "last_name", "email", "email_status", "title", "phone",
               "mobile_phone", "stage", "lead_status", "source")  # fmt: skip
COMPANY_FORM = ("name", "domain", "website", "industry", "employee_count", "icp_fit", "stage",
                "account_stage", "quarantine")  # fmt: skip


@router.get("/records")
def lookup(
    request: Request, user: User, q: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    state = web_state(request)
    ws = state.hub.workspace_id
    people: list[Any] = []
    companies: list[Any] = []
    text = q.strip().lower()
    if text:
        like = f"%{text}%"
        with state.hub.session() as s:
            people = people_json(
                s,
                s.scalars(
                    select(Person)
                    .where(
                        Person.workspace_id == ws,
                        Person.deleted_at.is_(None),
                        or_(
                            Person.email_key.like(like),
                            func.lower(Person.last_name).like(like),
                            func.lower(Person.first_name).like(like),
                        ),
                    )
                    .order_by(Person.id)
                    .limit(50)
                ),
            )
            domain = normalize_domain(text)
            companies = [
                company_json(s, c)
                for c in s.scalars(
                    select(Company)
                    .where(
                        Company.workspace_id == ws,
                        Company.deleted_at.is_(None),
                        or_(
                            Company.domain.like(like),
                            Company.domain == (domain or ""),
                            func.lower(Company.name).like(like),
                        ),
                    )
                    .order_by(Company.id)
                    .limit(50)
                )
            ]
    return page(request, "records.html", q=q, people=people, companies=companies)


def _mirror(state: Any, links: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The values last read from each linked remote record (the mirror), by remote id."""
    ids = [link["remote_id"] for link in links if link["remote_id"]]
    if not ids:
        return {}
    with state.hub.session() as s:
        rows = s.scalars(
            select(CrmRecord).where(
                CrmRecord.workspace_id == state.hub.workspace_id, CrmRecord.remote_id.in_(ids)
            )
        )
        return {r.remote_id: dict(r.fields or {}) for r in rows}


async def _record_page(
    request: Request, kind: Literal["person", "company"], record_id: int, message: str | None
) -> HTMLResponse:
    state = web_state(request)
    with state.hub.session() as s:
        row: Person | Company | None = (
            s.get(Person, record_id) if kind == "person" else s.get(Company, record_id)
        )
        if row is None or row.workspace_id != state.hub.workspace_id:
            return page(request, "problem.html", status_code=404, message=f"no {kind} {record_id}")
        record = person_json(s, row) if isinstance(row, Person) else company_json(s, row)
        links = links_json(s, state.hub.workspace_id, kind, record_id)
        people = []
        if kind == "company":
            people = people_json(
                s,
                s.scalars(
                    select(Person)
                    .where(Person.company_id == record_id, Person.deleted_at.is_(None))
                    .order_by(Person.id)
                    .limit(50)
                ),
            )
    why: list[str] = []
    checks: list[dict[str, Any]] = []
    try:
        if kind == "person":
            why = await operations.explain_person(state, record_id)
        else:
            checks = operations.explain_company(state, record_id)
    except (ConnectorError, operations.OperationRefused, UnknownSync) as exc:
        why = [f"cannot say now: {exc}"]
    return page(
        request,
        "record.html",
        kind=kind,
        record=record,
        links=links,
        mirror=_mirror(state, links),
        why=why,
        checks=checks,
        people=people,
        fields=PERSON_FORM if kind == "person" else COMPANY_FORM,
        message=message,
    )


@router.get("/records/{kind}/{record_id}")
async def record(
    request: Request, user: User, kind: Literal["person", "company"], record_id: int
) -> HTMLResponse:
    return await _record_page(request, kind, record_id, None)


@router.post("/records/{kind}/{record_id}")
async def record_edit(
    request: Request, user: User, kind: Literal["person", "company"], record_id: int
) -> HTMLResponse:
    """The form's fields that differ from the record go through the write path (origin
    "user"): stamped and queued for the CRMs."""
    state = web_state(request)
    form = await request.form()
    ws = state.hub.workspace_id
    allowed = PERSON_FORM if kind == "person" else COMPANY_FORM
    pairs = [
        (name, str(form.get(name, "")).strip()[:5000])
        for name in allowed
        if isinstance(form.get(name), str)
    ]
    with state.hub.session() as s:
        row: Person | Company | None = (
            s.get(Person, record_id) if kind == "person" else s.get(Company, record_id)
        )
        if row is None or row.workspace_id != ws:
            raise ApiProblem(404, f"no {kind} {record_id}")
        try:
            if isinstance(row, Person):
                values = person_changes(s, ws, pairs)
            else:
                values = company_changes(s, ws, pairs, stages_of(state))
        except EditError as exc:
            message = f"not saved: {exc}"
        else:
            changed = edit(s, row, values, origin="user")
            message = f"saved: {', '.join(changed)}" if changed else "nothing changed"
    return await _record_page(request, kind, record_id, message)


# --- imports -------------------------------------------------------------------------------


@router.get("/imports")
def imports(request: Request, user: User) -> HTMLResponse:
    return page(request, "imports.html", result=None)


@router.post("/imports")
async def upload(
    request: Request,
    user: User,
    kind: Annotated[Literal["people", "companies"], Form()],
    file: UploadFile,
    strict: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    try:
        result = await run_import(web_state(request), kind, file, strict)
    except ApiProblem as exc:
        return page(request, "imports.html", status_code=exc.status, result=None, error=exc.message)
    return page(request, "imports.html", result=result)


# --- API tokens ----------------------------------------------------------------------------


def _tokens_page(request: Request, user: Any, new: str | None, error: str | None) -> HTMLResponse:
    tokens = list_tokens(web_state(request).hub, user.account)
    return page(request, "tokens.html", tokens=tokens, new_token=new, error=error)


@router.get("/tokens")
def tokens(request: Request, user: User) -> HTMLResponse:
    return _tokens_page(request, user, None, None)


@router.post("/tokens")
def new_token(
    request: Request,
    user: User,
    name: Annotated[str, Form(max_length=200)],
    scope: Annotated[str, Form(max_length=10)],
) -> HTMLResponse:
    try:
        token = create_token(web_state(request).hub, user.account.username, name, scope)
    except AccountError as exc:
        return _tokens_page(request, user, None, str(exc))
    # Shown this once, on this page only (a secret the user asked for, not a stored one).
    return _tokens_page(request, user, token, None)


@router.post("/tokens/{token_id}/revoke")
def revoke(request: Request, user: User, token_id: int) -> HTMLResponse:
    revoke_token(web_state(request).hub, user.account, token_id)
    return _tokens_page(request, user, None, None)
