"""`leadbridge audit` as a person runs it before the first sync: duplicates in a Salesforce
org (read by a real pull from the sandbox), in the hub, and across, with their evidence on the
terminal and in the CSV; the hygiene checks; and the warning `status` gives until an audit ran
and while the last one found duplicates."""

from __future__ import annotations

import csv
from pathlib import Path

from leadbridge.engine.audit import audit_warning
from leadbridge.hub.tables import Connection

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)
from .crm_twins import Twin
from .crm_world import CrmWorld


def _create(crm: CrmWorld, sobject: str, **fields: object) -> str:
    result = crm.org.create(sobject, dict(fields), allow_dup_save=True)
    assert result.success, result.errors
    return str(result.id)


def _seed(crm: CrmWorld) -> dict[str, str]:
    ids = {
        "acme": _create(crm, "Account", Name="Acme Inc.", Website="https://www.acme.com"),
        "acme2": _create(crm, "Account", Name="ACME Corporation", Website="acme.com/about"),
        "globex": _create(crm, "Account", Name="Globex LLC", Website="globex.com"),
    }
    ids["robert"] = _create(
        crm, "Contact", FirstName="Robert", LastName="Smith", Email="rsmith@acme.com",
        Phone="(415) 867-5309", AccountId=ids["acme"],
    )  # fmt: skip
    ids["bob"] = _create(
        crm, "Contact", FirstName="Bob", LastName="Smith", Email="bob.smith@gmail.com",
        Phone="+1 415 867 5309", AccountId=ids["acme"],
    )  # fmt: skip
    # Namesakes at another company: never a duplicate.
    ids["other_robert"] = _create(
        crm, "Contact", FirstName="Robert", LastName="Smith", Email="robert.smith@globex.com",
        AccountId=ids["globex"],
    )  # fmt: skip
    # A colleague on the same switchboard: never a duplicate either.
    ids["alice"] = _create(
        crm, "Contact", FirstName="Alice", LastName="Jones", Email="alice@acme.com",
        Phone="415.867.5309", AccountId=ids["acme"],
    )  # fmt: skip
    ids["test"] = _create(
        crm, "Lead", FirstName="Test", LastName="User", Email="someone@test.com", Company="QA"
    )
    return ids


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_audit_finds_duplicates_within_across_and_the_records_to_clean(
    crm: CrmWorld, tmp_path: Path
) -> None:
    ids = _seed(crm)
    crm.activate()
    crm.pull()
    status = lb("status")
    assert "no duplicate audit was run for salesforce" in status.output

    # A hub person with another e-mail, not linked: the CRM's Robert Smith all the same.
    hub_robert = crm.person(
        first_name="Rob", last_name="Smith", email="robert.smith@acme.com",
        phone="415-867-5309", company={"name": "Acme", "domain": "acme.com"},
    )  # fmt: skip

    result = lb("audit", "--csv", str(tmp_path / "audit.csv"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "people in the CRM: 1" in out
    assert "companies in the CRM: 1" in out
    assert "hub people not linked who are CRM records: 1" in out
    assert f"Salesforce Contact {ids['robert']}" in out
    assert "first name nickname (Robert ~ Bob)" in out
    assert "phone same" in out
    assert "2 test contact" in out  # the lead, and the hub person the pull made of it

    rows = _read(tmp_path / "audit.csv")
    crm_people = [r for r in rows if r["section"] == "crm_people"]
    assert {r["record"] for r in crm_people} == {
        f"Salesforce Contact {ids['robert']}",
        f"Salesforce Contact {ids['bob']}",
    }
    assert all(float(r["confidence"]) >= 0.9 for r in crm_people)
    assert any("last name same (Smith)" in r["evidence"] for r in crm_people)
    companies = [r for r in rows if r["section"] == "crm_companies"]
    assert {r["record"] for r in companies} == {
        f"Salesforce Account {ids['acme']}",
        f"Salesforce Account {ids['acme2']}",
    }
    assert any("company domain same" in r["evidence"] for r in companies)
    across = [r for r in rows if r["section"] == "across"]
    assert f"hub person {hub_robert}" in {r["record"] for r in across}
    assert f"Salesforce Contact {ids['robert']}" in {r["record"] for r in across}
    # The namesake at Globex and the colleague on the switchboard are in no cluster.
    clustered = {r["record"] for r in rows if not r["section"].startswith("hygiene")}
    assert f"Salesforce Contact {ids['other_robert']}" not in clustered
    assert f"Salesforce Contact {ids['alice']}" not in clustered
    hygiene = [r for r in rows if r["section"] == "hygiene: test contact"]
    assert f"Salesforce Lead {ids['test']}" in [r["record"] for r in hygiene]

    status = lb("status")
    assert "duplicate cluster(s)" in status.output
    assert "merge them before the first sync" in status.output


def test_a_clean_audit_leaves_no_warning(crm: CrmWorld, tmp_path: Path) -> None:
    _create(crm, "Account", Name="Initech", Website="initech.com")
    crm.activate()
    crm.pull()
    with crm.hub.session() as s:
        connection = s.query(Connection).filter_by(name="salesforce").one()
    assert audit_warning(crm.hub, connection) is not None
    result = lb("audit", "--sync", "salesforce")
    assert result.exit_code == 0, result.output
    assert "0 duplicate cluster(s)" in result.output
    assert audit_warning(crm.hub, connection) is None
    assert "duplicate audit" not in lb("status").output


def test_an_unknown_sync_is_one_line(crm: CrmWorld) -> None:
    result = lb("audit", "--sync", "nope")
    assert result.exit_code == 1
    assert "no sync 'nope'" in result.output


def test_the_crm_mailing_address_is_evidence_and_another_country_is_not(
    twin: Twin, tmp_path: Path
) -> None:
    """On both CRMs: namesakes with other e-mails at one mailing address are one person, with
    the address in the evidence; namesakes at a King Street in a London of another country
    are not clustered."""
    home = {"street": "16 Meldrum Street", "city": "Arana Hills", "postcode": "4054"}
    one = twin.remote_contact(
        first_name="Bryce", last_name="Rees", email="bryce.rees@gmail.com",
        country="Australia", **home,
    )  # fmt: skip
    two = twin.remote_contact(
        first_name="Bryce", last_name="Rees", email="brees71@yahoo.com", country="AU", **home,
    )  # fmt: skip
    london = {"first_name": "Maria", "last_name": "Garcia", "street": "10 King Street"}
    uk = twin.remote_contact(email="maria.g@gmail.com", city="London", country="UK", **london)
    ontario = twin.remote_contact(
        email="mgarcia@yahoo.com", city="London", country="Canada", **london
    )
    twin.activate()
    twin.pull()
    result = lb("audit", "--csv", str(tmp_path / "audit.csv"))
    assert result.exit_code == 0, result.output
    rows = [r for r in _read(tmp_path / "audit.csv") if r["section"] == "crm_people"]
    records = {r["record"].rsplit(" ", 1)[1]: r for r in rows}
    assert set(records) == {one, two}, result.output
    assert "street address same (16 Meldrum Street)" in records[two]["evidence"]
    assert "postcode same (4054)" in records[two]["evidence"]
    assert uk not in records and ontario not in records
