"""Deals come into the hub through `leadbridge import deals` (the hub's write path): company by
domain or name, people by e-mail, owner by e-mail; a bad row is reported and writes nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Company, Deal, DealPerson, OutboxItem

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)


def _setup(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("email\nann@team.example\n")
    assert lb("import", "users", str(tmp_path / "users.csv")).exit_code == 0
    (tmp_path / "people.csv").write_text(
        "email,first_name,company_domain\nbo@acme.com,Bo,acme.com\ncy@acme.com,Cy,acme.com\n"
    )
    assert lb("import", "people", str(tmp_path / "people.csv")).exit_code == 0


def test_import_deals_keeps_good_rows_and_reports_bad_ones(tmp_path: Path, hub: Hub) -> None:
    _setup(tmp_path)
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal name,amount,currency,close date,stage,owner,company domain,people\n"
        'Acme renewal,"12,500.50",usd,2027-01-31,Prospecting,ann@team.example,acme.com,'
        "bo@acme.com;cy@acme.com\n"
        "Beta pilot,abc,USD,2027-02-01,Prospecting,,beta.com,\n"
        "Gamma,100,USD,31/01/2027,Prospecting,,gamma.com,\n"
        "Delta,100,USD,2027-02-01,Prospecting,nobody@team.example,delta.com,\n"
        "Eps,100,USD,2027-02-01,Prospecting,,eps.com,nobody@eps.com\n"
        "New logo,5000,EUR,2027-03-01,Qualification,,,\n"
    )
    result = lb("import", "deals", str(path))
    assert result.exit_code == 1
    assert "deals: 2 created, 0 updated, 0 unchanged, 4 rejected" in result.output
    assert "row 3: amount 'abc' is not a number" in result.output
    assert "row 4: close date '31/01/2027' is not a date" in result.output
    assert "row 5: owner 'nobody@team.example' is not a hub user" in result.output
    assert "row 6: person 'nobody@eps.com' is not in the hub" in result.output
    with hub.session() as s:
        deals = {d.name: d for d in s.scalars(select(Deal))}
        assert set(deals) == {"Acme renewal", "New logo"}
        acme = deals["Acme renewal"]
        assert acme.amount == Decimal("12500.50") and acme.currency == "USD"
        assert acme.close_date is not None and acme.close_date.isoformat() == "2027-01-31"
        company = s.get(Company, acme.company_id)
        assert company is not None and company.domain == "acme.com"
        assert len(list(s.scalars(select(DealPerson).where(DealPerson.deal_id == acme.id)))) == 2
        # no company was made for a rejected row
        domains = set(s.scalars(select(Company.domain)))
        assert "beta.com" not in domains and "delta.com" not in domains
        # the hub's write path: change times stamped, changes queued for the CRMs
        assert acme.field_changed_at and "stage" in acme.field_changed_at
        queued = list(s.scalars(select(OutboxItem).where(OutboxItem.hub_object == "deal")))
        assert {i.hub_id for i in queued} == {d.id for d in deals.values()}

    # re-importing updates by name at the company, never duplicates
    path.write_text("name,amount,company domain\nAcme renewal,13000,acme.com\n")
    result = lb("import", "deals", str(path))
    assert "deals: 0 created, 1 updated, 0 unchanged, 0 rejected" in result.output, result.output
    listed = lb("deals", "list")
    assert listed.exit_code == 0
    assert "Acme renewal" in listed.output and "13,000.00 USD" in listed.output
    assert "bo@acme.com, cy@acme.com" in listed.output


def test_strict_import_of_deals_writes_nothing_when_a_row_is_bad(tmp_path: Path, hub: Hub) -> None:
    _setup(tmp_path)
    path = tmp_path / "deals.csv"
    path.write_text("name,amount\nGood,10\nBad,ten\n")
    result = lb("import", "deals", str(path), "--strict")
    assert result.exit_code == 1 and "nothing imported" in result.output
    with hub.session() as s:
        assert list(s.scalars(select(Deal))) == []
