"""CSV import of companies and users: header-mapped, every row checked before anything is
written, good rows written in one transaction, bad rows reported by number and reason.
Re-importing upserts companies by domain and users by e-mail; a row that changes nothing
does not touch updated_at (so it neither restarts the settle buffer nor triggers a push)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import ICP_FITS, QUARANTINE, Company, User, utcnow
from leadbridge.normalize import normalize_domain, normalize_email
from leadbridge.normalize.email import InvalidEmail


class ImportFileError(ValueError):
    """The file as a whole cannot be read (missing, not CSV, no usable header)."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    written: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors


COMPANY_HEADERS = {
    "name": ("name", "company", "company name", "company_name", "organization"),
    "domain": ("domain", "primary domain", "primary_domain", "website domain"),
    "website": ("website", "url", "website url", "website_url"),
    "industry": ("industry",),
    "employee_count": ("employee_count", "employees", "employee count", "headcount", "size"),
    "icp_fit": ("icp_fit", "icp fit", "icp"),
    "stage": ("stage", "lead stage", "lead_stage"),
    "is_customer": ("is_customer", "customer"),
    "is_lead": ("is_lead", "lead"),
    "quarantine": ("quarantine", "quarantine status", "quarantine_status"),
    "owner": ("owner", "owner email", "owner_email", "assigned user", "assigned_to"),
}
USER_HEADERS = {
    "email": ("email", "e-mail", "email address"),
    "first_name": ("first_name", "first name", "firstname"),
    "last_name": ("last_name", "last name", "lastname"),
    "active": ("active", "enabled"),
}
TRUE, FALSE = {"true", "yes", "y", "1", "t"}, {"false", "no", "n", "0", "f", ""}


def _read(
    path: Path, aliases: dict[str, tuple[str, ...]]
) -> tuple[dict[str, str], list[dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ImportFileError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ImportFileError(f"{path}: empty file, or no header row")
    mapping: dict[str, str] = {}
    for column in reader.fieldnames:
        key = (column or "").strip().lower()
        for target, names in aliases.items():
            if key in names and target not in mapping:
                mapping[target] = column
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ImportFileError(f"{path}: not valid CSV ({exc})") from exc
    return mapping, rows


def _bool(value: str, column: str) -> bool:
    v = value.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise ValueError(f"{column} must be true or false, got {value!r}")


def _company_values(
    raw: dict[str, str],
    mapping: dict[str, str],
    owners: Callable[[str], int | None],
    stages: Iterable[str],
) -> dict[str, Any]:
    def cell(key: str) -> str | None:
        column = mapping.get(key)
        if column is None:
            return None
        value = raw.get(column)
        return value.strip() if isinstance(value, str) else None

    if None in raw:
        raise ValueError("more cells than header columns (a comma inside an unquoted value?)")
    values: dict[str, Any] = {}
    domain_src = cell("domain") or cell("website")
    domain = normalize_domain(domain_src)
    if not domain:
        raise ValueError(
            f"missing or invalid domain ({domain_src!r})" if domain_src else "missing domain"
        )
    values["domain"] = domain
    if cell("name") is not None:
        values["name"] = cell("name") or None
    if cell("website") is not None:
        values["website"] = cell("website") or None
    if cell("industry") is not None:
        values["industry"] = cell("industry") or None
    if (count := cell("employee_count")) is not None:
        try:
            values["employee_count"] = int(count.replace(",", "")) if count else None
        except ValueError:
            raise ValueError(f"employee count must be a whole number, got {count!r}") from None
        if values["employee_count"] is not None and values["employee_count"] < 0:
            raise ValueError("employee count cannot be negative")
    if (fit := cell("icp_fit")) is not None:
        fit = fit.lower().replace(" ", "_") or "unknown"
        if fit not in ICP_FITS:
            raise ValueError(f"ICP fit must be one of {', '.join(ICP_FITS)}, got {fit!r}")
        values["icp_fit"] = fit
    if (stage := cell("stage")) is not None:
        stage = stage.lower().replace(" ", "_") or None
        allowed = [*stages, "customer", "not_a_fit"]
        if stage is not None and stage not in allowed:
            raise ValueError(f"stage must be one of {', '.join(allowed)}, got {stage!r}")
        values["stage"] = stage
    if (customer := cell("is_customer")) is not None:
        values["is_customer"] = _bool(customer, "customer")
    if (lead := cell("is_lead")) is not None:
        values["is_lead"] = _bool(lead, "lead") if lead else True
    if (q := cell("quarantine")) is not None:
        q = q.lower() or "active"
        q = {"true": "quarantined", "yes": "quarantined", "false": "active", "no": "active"}.get(
            q, q
        )
        if q not in QUARANTINE:
            raise ValueError(f"quarantine must be active or quarantined, got {q!r}")
        values["quarantine"] = q
    if (owner := cell("owner")) is not None:
        if owner:
            owner_id = owners(owner)
            if owner_id is None:
                raise ValueError(f"owner {owner!r} is not a hub user (import users first)")
            values["owner_id"] = owner_id
        else:
            values["owner_id"] = None
    return values


def import_companies(
    hub: Hub, path: Path, stages: Iterable[str], *, strict: bool = False
) -> ImportReport:
    mapping, rows = _read(path, COMPANY_HEADERS)
    if "domain" not in mapping and "website" not in mapping:
        raise ImportFileError(
            f"{path}: needs a domain (or website) column; found {', '.join(mapping) or 'none'}"
        )
    report = ImportReport()
    ws = hub.workspace_id
    stages = list(stages)
    with hub.session() as s:
        emails = {
            u.email.lower(): u.id for u in s.scalars(select(User).where(User.workspace_id == ws))
        }
        parsed: dict[str, tuple[int, dict[str, Any]]] = {}
        for number, raw in enumerate(rows, start=2):  # row 1 is the header
            try:
                values = _company_values(raw, mapping, lambda e: emails.get(e.lower()), stages)
            except ValueError as exc:
                report.errors.append((number, str(exc)))
                continue
            if values["domain"] in parsed:
                first = parsed[values["domain"]][0]
                report.errors.append((number, f"domain {values['domain']} already on row {first}"))
                continue
            parsed[values["domain"]] = (number, values)
        if strict and report.errors:
            report.written = False
            return report
        existing = {
            c.domain: c
            for c in s.scalars(
                select(Company).where(Company.workspace_id == ws, Company.domain.in_(list(parsed)))
            )
        }
        now = utcnow()
        for domain, (_, values) in parsed.items():
            company = existing.get(domain)
            if company is None:
                s.add(Company(workspace_id=ws, created_at=now, updated_at=now, **values))
                report.created += 1
                continue
            changed = {k: v for k, v in values.items() if getattr(company, k) != v}
            if changed:
                for k, v in changed.items():
                    setattr(company, k, v)
                company.updated_at = now
                report.updated += 1
            else:
                report.unchanged += 1
    return report


def import_users(hub: Hub, path: Path, *, strict: bool = False) -> ImportReport:
    mapping, rows = _read(path, USER_HEADERS)
    if "email" not in mapping:
        raise ImportFileError(f"{path}: needs an email column")
    report = ImportReport()
    ws = hub.workspace_id
    with hub.session() as s:
        parsed: dict[str, dict[str, Any]] = {}
        for number, raw in enumerate(rows, start=2):
            try:
                if None in raw:
                    raise ValueError("more cells than header columns")
                email = normalize_email(raw.get(mapping["email"]))
                if email is None:
                    raise ValueError("missing email")
                values: dict[str, Any] = {"email": email}
                for key in ("first_name", "last_name"):
                    if key in mapping:
                        values[key] = (raw.get(mapping[key]) or "").strip() or None
                if "active" in mapping:
                    values["active"] = _bool(raw.get(mapping["active"]) or "true", "active")
            except (InvalidEmail, ValueError) as exc:
                report.errors.append((number, str(exc)))
                continue
            if email in parsed:
                report.errors.append((number, f"e-mail {email} appears twice"))
                continue
            parsed[email] = values
        if strict and report.errors:
            report.written = False
            return report
        existing = {
            u.email.lower(): u
            for u in s.scalars(
                select(User).where(
                    User.workspace_id == ws, func.lower(User.email).in_(list(parsed))
                )
            )
        }
        for email, values in parsed.items():
            user = existing.get(email)
            if user is None:
                s.add(User(workspace_id=ws, **values))
                report.created += 1
            elif any(getattr(user, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(user, k, v)
                report.updated += 1
            else:
                report.unchanged += 1
    return report
