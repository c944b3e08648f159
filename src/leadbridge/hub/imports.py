"""CSV import of companies and users: header-mapped, every row checked before anything is
written, good rows written in one transaction, bad rows reported by number and reason.
Re-importing upserts companies by domain and users by e-mail. Companies go through the hub's
one write path (hub/edits.py): each changed field is stamped and the change queued for the
CRMs; a row that changes nothing touches nothing (no settle buffer restart, no push)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from leadbridge.hub import import_values as cell
from leadbridge.hub.csv_input import DELIMITER_NAMES, BadRow, CsvFileError, CsvTable, open_csv
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import create, edit
from leadbridge.hub.tables import Company, User
from leadbridge.normalize import normalize_email
from leadbridge.normalize.email import InvalidEmail

ImportFileError = CsvFileError  # the name the CLI knows


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    written: bool = True
    read_as: str = ""  # how the file was read, when not plain UTF-8 with commas

    def read(self, table: CsvTable) -> None:
        parts = [] if table.encoding in ("utf-8", "utf-8-sig") else [table.encoding]
        if table.delimiter != ",":
            parts.append(f"{DELIMITER_NAMES[table.delimiter]}-separated")
        self.read_as = ", ".join(parts)

    @property
    def ok(self) -> bool:
        return not self.errors


COMPANY_HEADERS = {
    "name": ("name", "company", "company name", "organization", "account name"),
    "domain": ("domain", "primary domain", "website domain", "company domain"),
    "website": ("website", "url", "website url", "web site"),
    "industry": ("industry",),
    "employee_count": ("employees", "employee count", "number of employees", "headcount", "size"),
    "icp_fit": ("icp fit", "icp", "fit"),
    "stage": ("stage", "lead stage"),
    "is_customer": ("customer", "is customer"),
    "is_lead": ("lead", "is lead", "company lead"),
    "quarantine": ("quarantine", "quarantine status", "quarantined"),
    "owner": ("owner", "owner email", "assigned user", "assigned to"),
}
USER_HEADERS = {
    "email": ("email", "e-mail", "email address"),
    "first_name": ("first name", "firstname"),
    "last_name": ("last name", "lastname"),
    "active": ("active", "enabled"),
}


def _company_values(
    cells: dict[str, str], owners: Callable[[str], int | None], stages: Iterable[str]
) -> dict[str, Any]:
    domain_src = cells.get("domain") or cells.get("website")
    if not domain_src:
        raise ValueError("missing domain")
    values = cell.company_field("domain", domain_src, owners, stages)
    for key in (
        "name",
        "website",
        "industry",
        "employee_count",
        "icp_fit",
        "stage",
        "is_customer",
        "is_lead",
        "quarantine",
        "owner",
    ):
        if key in cells:
            values.update(cell.company_field(key, cells[key], owners, stages))
    return values


def _user_values(cells: dict[str, str]) -> dict[str, Any]:
    email = normalize_email(cell.text(cells.get("email", ""), User, "email", "e-mail"))
    if email is None:
        raise ValueError("missing email")
    values: dict[str, Any] = {"email": email}
    for key in ("first_name", "last_name"):
        if key in cells:
            values[key] = cell.text(cells[key], User, key, key.replace("_", " "))
    if "active" in cells:
        values["active"] = cell.boolean(cells["active"] or "true", "active")
    return values


def import_companies(
    hub: Hub, path: Path, stages: Iterable[str], *, strict: bool = False
) -> ImportReport:
    table = open_csv(path, COMPANY_HEADERS)
    if "domain" not in table.columns and "website" not in table.columns:
        raise ImportFileError(missing_column(table, "a domain (or website)"))
    report = ImportReport()
    report.read(table)
    ws = hub.workspace_id
    stages = list(stages)
    with hub.session() as s:
        emails = {
            u.email.lower(): u.id for u in s.scalars(select(User).where(User.workspace_id == ws))
        }
        parsed: dict[str, tuple[int, dict[str, Any]]] = {}
        for row in table.rows():
            if isinstance(row, BadRow):
                report.errors.append((row.number, row.reason))
                continue
            number = row.number
            try:
                values = _company_values(row.cells, lambda e: emails.get(e.lower()), stages)
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
        for domain, (_, values) in parsed.items():
            company = existing.get(domain)
            if company is None:
                create(s, Company(workspace_id=ws), values, origin="user")
                report.created += 1
            elif edit(s, company, values, origin="user"):
                report.updated += 1
            else:
                report.unchanged += 1
    return report


def import_users(hub: Hub, path: Path, *, strict: bool = False) -> ImportReport:
    table = open_csv(path, USER_HEADERS)
    if "email" not in table.columns:
        raise ImportFileError(missing_column(table, "an email"))
    report = ImportReport()
    report.read(table)
    ws = hub.workspace_id
    with hub.session() as s:
        parsed: dict[str, dict[str, Any]] = {}
        numbers: dict[str, int] = {}
        for row in table.rows():
            if isinstance(row, BadRow):
                report.errors.append((row.number, row.reason))
                continue
            number = row.number
            try:
                values = _user_values(row.cells)
            except (InvalidEmail, ValueError) as exc:
                report.errors.append((number, str(exc)))
                continue
            email = values["email"]
            if email in parsed:
                report.errors.append((number, f"e-mail {email} already on row {numbers[email]}"))
                continue
            parsed[email] = values
            numbers[email] = number
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


def missing_column(table: CsvTable, what: str) -> str:
    found = ", ".join(repr(h) for h in table.header[:12]) or "none"
    sep = DELIMITER_NAMES[table.delimiter]
    return f"{table.path}: needs {what} column; found {found} ({sep}-separated, {table.encoding})"
