"""REST: people and companies, read with paging and filters, created and changed through the
hub's one write path (hub/edits.py, origin "user"): every changed field is stamped and queued for
the CRMs, exactly as `leadbridge edit` and the CSV imports do.

Values are given as text in the vocabulary of `leadbridge edit` (`owner` an e-mail, `company` a
domain or name, `icp_fit` with its synonyms…), checked by the same functions. Deleting is not
offered: the hub has no delete path yet, and a hub record removed under its links would leave
the CRMs and the hub disagreeing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from sqlalchemy import Select, func, or_, select

from leadbridge.hub.edits import EditError, create, edit
from leadbridge.hub.people import company_changes, person_changes
from leadbridge.hub.tables import Company, Person, User
from leadbridge.normalize import email_key, normalize_domain
from leadbridge.web.security import api_grant, web_state
from leadbridge.web.serialize import company_json, people_json, person_json, stages_of

router = APIRouter(prefix="/api/v1", tags=["records"], dependencies=[Depends(api_grant)])

Limit = Annotated[int, Query(ge=1, le=500, description="records per page")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="records to skip")]
MAX_FIELDS = 60
MAX_VALUE = 5000
Scalar = str | int | float | bool | None
Fields = Annotated[
    dict[str, Scalar],
    Body(
        description="hub field -> value, as `leadbridge edit` takes them; null or '' clears",
        examples=[{"email": "ada@acme.io", "first_name": "Ada", "company": "acme.io"}],
    ),
]


class ApiProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _pairs(fields: dict[str, Scalar]) -> list[tuple[str, str]]:
    if not fields:
        raise ApiProblem(422, "give at least one field")
    if len(fields) > MAX_FIELDS:
        raise ApiProblem(422, f"at most {MAX_FIELDS} fields at once")
    out = []
    for name, value in fields.items():
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        if len(text) > MAX_VALUE or "\x00" in text or "\x00" in name:
            raise ApiProblem(422, f"the value of {name[:60]!r} is too long or holds a NUL")
        out.append((name.strip().lower()[:120], text.strip()))
    return out


def _page(
    s: Any, query: Select[Any], limit: int, offset: int, render: Any, request: Request
) -> dict[str, Any]:
    total = s.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = list(s.scalars(query.limit(limit).offset(offset)))
    following = None
    if offset + limit < total:
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    return {
        "items": render(s, rows),
        "total": total,
        "limit": limit,
        "offset": offset,
        "next": following,
    }


@router.get("/people")
def list_people(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    email: Annotated[str | None, Query(max_length=320)] = None,
    q: Annotated[str | None, Query(max_length=200, description="in name or e-mail")] = None,
    company_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    hub = web_state(request).hub
    query = select(Person).where(
        Person.workspace_id == hub.workspace_id, Person.deleted_at.is_(None)
    )
    query = query.order_by(Person.id)
    if email:
        query = query.where(Person.email_key == email_key(email))
    if company_id:
        query = query.where(Person.company_id == company_id)
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                Person.email_key.like(like),
                func.lower(Person.first_name).like(like),
                func.lower(Person.last_name).like(like),
            )
        )
    with hub.session() as s:
        return _page(s, query, limit, offset, people_json, request)


def _person(s: Any, workspace_id: int, person_id: int) -> Person:
    person = s.get(Person, person_id)
    if person is None or person.workspace_id != workspace_id:
        raise ApiProblem(404, f"no person {person_id}")
    return person


@router.get("/people/{person_id}")
def get_person(request: Request, person_id: int) -> dict[str, Any]:
    hub = web_state(request).hub
    with hub.session() as s:
        return person_json(s, _person(s, hub.workspace_id, person_id))


@router.post("/people", status_code=201)
def create_person(request: Request, fields: Fields) -> dict[str, Any]:
    hub = web_state(request).hub
    pairs = _pairs(fields)
    ws = hub.workspace_id
    with hub.session() as s:
        values = _checked(lambda: person_changes(s, ws, pairs))
        key = email_key(values.get("email"))
        if not key:
            raise ApiProblem(422, "email is required: people are matched by it")
        if s.scalar(select(Person.id).where(Person.workspace_id == ws, Person.email_key == key)):
            raise ApiProblem(409, f"a person with e-mail {key} exists; change it with PATCH")
        values.setdefault("email_status", "unverified")
        person = create(s, Person(workspace_id=ws), values, origin="user")
        return person_json(s, person)


@router.patch("/people/{person_id}")
def update_person(request: Request, person_id: int, fields: Fields) -> dict[str, Any]:
    hub = web_state(request).hub
    pairs = _pairs(fields)
    ws = hub.workspace_id
    with hub.session() as s:
        person = _person(s, ws, person_id)
        values = _checked(lambda: person_changes(s, ws, pairs))
        key = email_key(values.get("email"))
        if "email" in values and not key:
            raise ApiProblem(422, "a person's e-mail cannot be cleared: people are matched by it")
        if key and key != person.email_key:
            taken = s.scalar(
                select(Person.id).where(Person.workspace_id == ws, Person.email_key == key)
            )
            if taken:
                raise ApiProblem(409, f"person {taken} already has the e-mail {key}")
        changed = edit(s, person, values, origin="user")
        return {**person_json(s, person), "changed": changed}


@router.get("/companies")
def list_companies(
    request: Request,
    limit: Limit = 50,
    offset: Offset = 0,
    domain: Annotated[str | None, Query(max_length=255)] = None,
    q: Annotated[str | None, Query(max_length=200, description="in name or domain")] = None,
    is_lead: bool | None = None,
) -> dict[str, Any]:
    hub = web_state(request).hub
    query = select(Company).where(
        Company.workspace_id == hub.workspace_id, Company.deleted_at.is_(None)
    )
    query = query.order_by(Company.id)
    if domain:
        query = query.where(Company.domain == (normalize_domain(domain) or domain.lower()))
    if is_lead is not None:
        query = query.where(Company.is_lead == is_lead)
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(or_(Company.domain.like(like), func.lower(Company.name).like(like)))
    with hub.session() as s:
        return _page(
            s, query, limit, offset, lambda s, rows: [company_json(s, c) for c in rows], request
        )


def _company(s: Any, workspace_id: int, company_id: int) -> Company:
    company = s.get(Company, company_id)
    if company is None or company.workspace_id != workspace_id:
        raise ApiProblem(404, f"no company {company_id}")
    return company


@router.get("/companies/{company_id}")
def get_company(request: Request, company_id: int) -> dict[str, Any]:
    hub = web_state(request).hub
    with hub.session() as s:
        return company_json(s, _company(s, hub.workspace_id, company_id))


@router.post("/companies", status_code=201)
def create_company(request: Request, fields: Fields) -> dict[str, Any]:
    state = web_state(request)
    hub, pairs = state.hub, _pairs(fields)
    ws = hub.workspace_id
    with hub.session() as s:
        values = _checked(lambda: company_changes(s, ws, pairs, stages_of(state)))
        if not values.get("domain"):
            raise ApiProblem(422, "domain is required: companies are matched by it")
        taken = s.scalar(
            select(Company.id).where(Company.workspace_id == ws, Company.domain == values["domain"])
        )
        if taken:
            raise ApiProblem(409, f"company {taken} has the domain {values['domain']}")
        company = create(s, Company(workspace_id=ws), values, origin="user")
        return company_json(s, company)


@router.patch("/companies/{company_id}")
def update_company(request: Request, company_id: int, fields: Fields) -> dict[str, Any]:
    state = web_state(request)
    hub, pairs = state.hub, _pairs(fields)
    ws = hub.workspace_id
    with hub.session() as s:
        company = _company(s, ws, company_id)
        values = _checked(lambda: company_changes(s, ws, pairs, stages_of(state)))
        new_domain = values.get("domain")
        if new_domain and new_domain != company.domain:
            taken = s.scalar(
                select(Company.id).where(Company.workspace_id == ws, Company.domain == new_domain)
            )
            if taken:
                raise ApiProblem(409, f"company {taken} has the domain {new_domain}")
        changed = edit(s, company, values, origin="user")
        return {**company_json(s, company), "changed": changed}


@router.get("/users")
def list_users(request: Request) -> list[dict[str, Any]]:
    hub = web_state(request).hub
    with hub.session() as s:
        rows = s.scalars(
            select(User).where(User.workspace_id == hub.workspace_id).order_by(User.id)
        )
        return [
            {"id": u.id, "email": u.email, "first_name": u.first_name, "last_name": u.last_name}
            for u in rows
        ]


def _checked(make: Any) -> dict[str, Any]:
    try:
        values: dict[str, Any] = make()
    except EditError as exc:
        raise ApiProblem(422, str(exc)) from None
    return values
