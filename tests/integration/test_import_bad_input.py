"""Cells the database would refuse (PostgreSQL: integer range, varchar length, NUL) are bad
rows before anything is written, on SQLite and PostgreSQL alike; the good rows are kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from leadbridge.hub.db import Hub
from leadbridge.hub.imports import import_companies, import_users
from leadbridge.hub.tables import Company, User

STAGES = ["pending", "target", "education", "solution", "evaluation", "ready_to_buy"]


def test_values_the_database_refuses_are_bad_rows(any_hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(
        (
            "name,domain,employees,industry,website\n"
            "Good,good.com,12,Software,https://good.com\n"
            f"Huge,huge.com,{2**63},,\n"
            f"Big,big.com,{2**31},,\n"
            f"{'N' * 256},long.com,1,,\n"
            f"Site,site.com,1,,https://site.com/{'p' * 2100}\n"
            "Nul,nul.com,1,Soft\x00ware,\n"
            "Max,max.com,2147483647,,\n"
        ).encode()
    )
    report = import_companies(any_hub, path, STAGES)
    reasons = dict(report.errors)
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert "employee count must be at most 2,147,483,647" in reasons[3]
    assert "employee count must be at most" in reasons[4]
    assert reasons[5] == "name is 256 characters long (at most 255)"
    assert "website is 2,117 characters long (at most 2,048)" in reasons[6]
    assert "column 'industry' contains a NUL character" in reasons[7]
    with any_hub.session() as s:
        stored = {c.domain: c.employee_count for c in s.scalars(select(Company))}
    assert stored == {"good.com": 12, "max.com": 2147483647}


def test_user_values_the_database_refuses_are_bad_rows(any_hub: Hub, tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "email,first_name\n"
        "ann@team.io,Ann\n"
        f"bob@team.io,{'B' * 201}\n"
        f"{'c' * 330}@team.io,C\n"
        "ann@TEAM.io,Ann again\n"
    )
    report = import_users(any_hub, path)
    reasons = dict(report.errors)
    assert reasons[3] == "first name is 201 characters long (at most 200)"
    assert "e-mail is 338 characters long (at most 320)" in reasons[4]
    assert reasons[5] == "e-mail ann@team.io already on row 2"
    with any_hub.session() as s:
        assert [u.email for u in s.scalars(select(User))] == ["ann@team.io"]
