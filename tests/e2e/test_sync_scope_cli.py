"""Tags and scope from the command line: a CSV `tags` column adds tags, `edit person --tag /
--untag` changes them, `explain` says a person is outside the sync scope, `plan` counts them,
and the push leaves them out of Salesforce."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadbridge.hub.tables import Person

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)
from .crm_world import CrmWorld

POLICY = """\
version: 1
personas:
  buyer: {title_contains: [buyer]}
syncs:
  salesforce:
    connection: salesforce
    scope: {tags: [webinar], personas: [buyer]}
"""


def tags(crm: CrmWorld, email: str) -> list[str]:
    from leadbridge.hub.tags import tags_of

    with crm.hub.session() as s:
        person = s.query(Person).filter(Person.email_key == email).one()
        return tags_of(s, person.id)


def test_tags_from_csv_and_edit_decide_the_scope(
    crm: CrmWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "leadbridge.yaml").write_text(POLICY)
    crm.activate()
    people = tmp_path / "people.csv"
    people.write_text(
        "email,last name,company,title,tags\n"
        "in@a.io,In,A,Engineer,Webinar; Q3 list\n"
        "out@a.io,Out,A,Engineer,\n"
        "buyer@a.io,Buyer,A,Head Buyer,\n"
    )
    assert "3 created" in lb("import", "people", str(people)).output
    people.write_text("email,tags\nin@a.io,extra\n")  # a re-import adds, takes nothing away
    lb("import", "people", str(people))
    assert tags(crm, "in@a.io") == ["extra", "q3 list", "webinar"]

    out = lb("explain", "out@a.io").output
    assert "skip" in out and "outside the sync scope (tags webinar; personas buyer)" in out
    assert "person_out_of_scope 1" in lb("plan", "salesforce").output
    assert "outside the sync scope (tags webinar; personas buyer)" in lb("status").output
    assert lb("pull").exit_code == 0
    assert lb("push").exit_code == 0
    assert {r["LastName"] for r in crm.rows("Lead")} == {"In", "Buyer"}

    result = lb("edit", "person", "out@a.io", "--tag", "Webinar", "--untag", "nothing")
    assert result.exit_code == 0 and "tags [] → ['webinar']" in result.output
    result = lb("edit", "person", "in@a.io", "--untag", "q3 list")
    assert "tags ['extra', 'q3 list', 'webinar'] → ['extra', 'webinar']" in result.output
    assert lb("push").exit_code == 0
    assert {r["LastName"] for r in crm.rows("Lead")} == {"In", "Buyer", "Out"}
    result = lb("edit", "person", "out@a.io")
    assert result.exit_code == 1 and "nothing to change" in result.output


def test_push_named_people_to_a_campaign_from_the_command_line(
    crm: CrmWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    crm.activate()
    campaign = str(crm.org.create("Campaign", {"Name": "Spring Event"}).id)
    company = crm.company(name="Acme", domain="acme.io")
    crm.person(last_name="Ada", email="ada@acme.io", company=company)
    crm.person(last_name="Bob", email="bob@acme.io", company=company)
    assert lb("pull").exit_code == 0

    result = lb("push", "--campaign", "Spring Event")  # no scope, nobody named: who joins?
    assert result.exit_code == 1 and "a campaign needs the people who join it" in result.output
    result = lb("push", "ada@acme.io", "--campaign", "Spring Event")
    assert result.exit_code == 0 and "campaign_added 1" in result.output
    members = [r for r in crm.rows("CampaignMember") if r["CampaignId"] == campaign]
    (lead,) = crm.rows("Lead")
    assert [m["LeadId"] for m in members] == [lead["Id"]] and lead["LastName"] == "Ada"
    result = lb("push", "ada@acme.io", "--campaign", "Spring Event")
    assert "campaign_added" not in result.output
    assert len([r for r in crm.rows("CampaignMember") if r["CampaignId"] == campaign]) == 1

    result = lb("push", "bob@acme.io", "--campaign", "Autumn Event")
    assert "campaign_failed 1" in result.output and "leadbridge errors" in result.output
    assert "campaign 'Autumn Event' does not exist in Salesforce" in lb("errors").output
