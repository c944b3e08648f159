"""The CRM commands as a person uses them, against the Salesforce sandbox over HTTPS: what the
org holds afterwards, what the hub holds, and one clear line (exit 1, no traceback) for every
mistake."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import edit
from leadbridge.hub.tables import Company, Person
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp

from ..salesforce_oauth import oauth_token_body
from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)
from .crm_world import CrmWorld
from .web_world import make_web

POLICY = """\
version: 1
syncs:
  salesforce:
    push:
      contacts:
        mode: stages
        stages: [Interested]
      people_source:
        field: LeadSource
        value: Web
      account_source:
        field: AccountSource
        value: Web
"""


def failed_clearly(result: Any, *expected: str) -> str:
    """Exit 1 and one line (no usage box, no traceback) that says each expected part."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for part in expected:
        assert part in lines[0], result.output
    return str(lines[0])


@pytest.fixture
def org() -> Iterator[tuple[SalesforceSandbox, str, str]]:
    """A Salesforce sandbox over HTTPS, not connected yet: the user connects it."""
    sandbox = SalesforceSandbox(seed=11)
    cert, key, ca = sandbox.tls_files()
    with ServedApp(sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sandbox.set_base_url(served.url)
        yield sandbox, served.url, str(ca)


def add_person(hub: Hub, company: str | None = None, **fields: Any) -> int:
    """A hub person (there is no people import yet: as the hub's own edit would make it)."""
    with hub.session() as s:
        person = Person(workspace_id=hub.workspace_id, email_status="verified")
        if company is not None:
            domain = company.lower().replace(" ", "") + ".io"
            firm = Company(
                workspace_id=hub.workspace_id, is_lead=False, name=company, domain=domain
            )
            s.add(firm)
            s.flush()
            person.company_id = firm.id
        s.add(person)
        s.flush()
        edit(s, person, fields, origin="user")
        return person.id


def live(sandbox: SalesforceSandbox, sobject: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.org.rows(sobject) if not r.get("IsDeleted")]


def run_id(output: str, kind: str) -> str:
    found = re.search(rf"{kind} run (\d+)", output)
    assert found, output
    return found.group(1)


def test_the_whole_crm_flow_from_the_command_line(
    org: tuple[SalesforceSandbox, str, str],
    hub: Hub,
    connections: Connections,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox, url, ca = org
    account = sandbox.org.create("Account", {"Name": "Acme", "Website": "acme.io"}).id
    sandbox.org.create(
        "Contact",
        {"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@acme.io", "AccountId": account},
    )
    body, client_id, secret = oauth_token_body(sandbox, url, ca)
    (tmp_path / "tok.json").write_text(json.dumps(body))
    monkeypatch.setenv("LEADBRIDGE_SF_CLIENT_SECRET", secret)
    secrets = [body["access_token"], body["refresh_token"], secret]
    outputs: list[str] = []

    def run(*args: str) -> Any:
        result = lb(*args)
        outputs.append(result.output)
        return result

    assert run("init").exit_code == 0
    result = run(
        "connect", "salesforce", url, "--token-json", "tok.json", "--ca-file", ca,
        "--client-id", client_id,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "connected salesforce" in result.output and "setup window is open" in result.output

    someone = add_person(
        hub, "X Corp", first_name="Sam", last_name="One", email="someone@x.io", title="CTO",
        stage="Cold",
    )  # fmt: skip
    status = run("status").output
    assert "salesforce sync (org " in status and "setup window open until" in status
    assert "initial pull not started" in status

    failed_clearly(run("pull"), "setup window is open until", "leadbridge activate")
    failed_clearly(run("push", "someone@x.io"), "initial pull has not finished")
    failed_clearly(run("push"), "setup window is open until", "leadbridge activate")
    assert "setup window ended" in run("activate").output
    failed_clearly(run("push"), "initial pull has not finished", "leadbridge pull")
    assert live(sandbox, "Lead") == []  # nothing pushed before the initial pull
    result = run("pull")
    assert result.exit_code == 0, result.output
    assert re.search(r"pull run \d+: .*contact", result.output), result.output

    (tmp_path / "leadbridge.yaml").write_text(POLICY)
    result = run("policy", "check")
    assert result.exit_code == 0 and result.output == "policy ok\n", result.output

    result = run("plan", "salesforce")
    assert result.exit_code == 0, result.output
    assert f"person {someone}: skip — contact stage 'Cold' is not selected" in result.output
    assert "person_skip" in result.output

    status = run("status").output  # the policy file is here: the reasons are shown
    assert "setup window closed, initial pull done" in status
    assert "people: 1 in sync, 0 failing, 1 not linked: 1 excluded" in status
    assert "1 contact stage 'Cold' is not selected" in status

    # A manual push of one person by e-mail: stage rules do not apply.
    result = run("push", "someone@x.io")
    assert result.exit_code == 0, result.output
    created = run_id(result.output, "push")
    assert "leads_created 1" in result.output
    (lead,) = [r for r in live(sandbox, "Lead") if r["Email"] == "someone@x.io"]
    assert (lead["LastName"], lead["Title"], lead["LeadSource"]) == ("One", "CTO", "Web")

    result = run("explain", "someone@x.io")
    assert result.exit_code == 0 and f"person {someone}: skip Lead {lead['Id']}" in result.output
    assert "in sync" in result.output

    status = run("status", "--policy", "leadbridge.yaml").output
    assert "people: 2 in sync, 0 failing, 0 not linked" in status
    assert "companies: 1 in sync, 0 failing, 1 not linked: 0 excluded, 1 to push" in status, status

    # The JSON API has the same numbers.
    api = make_web(connections).api("GET", "/api/v1/status", token="read").json()
    (crm,) = api["crm"]
    assert crm["people"] == {"total": 2, "in_sync": 2, "failing": 0, "not_linked": 0}
    assert crm["initial_pull"] == "done" and crm["setup_until"] is None
    assert api["people"] == 2

    # An update, then undo it: the org gets its old value back.
    with hub.session() as s:
        person = s.get(Person, someone)
        assert person is not None
        edit(s, person, {"title": "CEO"}, origin="user")
    result = run("push", "someone@x.io")
    assert "leads_updated 1" in result.output, result.output
    updated = run_id(result.output, "push")
    assert sandbox.org.row("Lead", lead["Id"])["Title"] == "CEO"
    result = run("undo", updated)
    assert result.exit_code == 0 and "restored 1" in result.output, result.output
    assert sandbox.org.row("Lead", lead["Id"])["Title"] == "CTO"

    # Undo the create: the lead leaves the org, the person is not linked any more.
    result = run("undo", created)
    assert result.exit_code == 0 and "deleted 1" in result.output, result.output
    assert [r for r in live(sandbox, "Lead") if r["Email"] == "someone@x.io"] == []
    status = run("status").output
    assert "people: 1 in sync, 0 failing, 1 not linked" in status

    # New tokens for the same org (after a revoked session): the sync state is kept.
    body, client_id, secret = oauth_token_body(sandbox, url, ca)
    (tmp_path / "tok.json").write_text(json.dumps(body))
    monkeypatch.setenv("LEADBRIDGE_SF_CLIENT_SECRET", secret)
    secrets += [body["access_token"], body["refresh_token"], secret]
    result = run(
        "connect", "salesforce", url, "--token-json", "tok.json", "--ca-file", ca,
        "--client-id", client_id,
    )  # fmt: skip
    assert result.exit_code == 0 and "reconnected salesforce" in result.output, result.output
    assert "setup window closed, initial pull done" in run("status").output
    assert run("pull").exit_code == 0

    # The org's Ada Lovelace under another e-mail: held as a possible duplicate, not created,
    # until a person says it is someone else.
    ada = add_person(
        hub, first_name="Ada", last_name="Lovelace", email="a.lovelace@acme.io", stage="Interested"
    )
    with hub.session() as s:
        acme = s.scalar(select(Company.id).where(Company.domain == "acme.io"))
        person = s.get(Person, ada)
        assert person is not None and acme is not None
        person.company_id = acme  # the org's Acme, pulled in
    result = run("push", "a.lovelace@acme.io")
    assert "failed 1" in result.output and "leadbridge errors" in result.output, result.output
    assert not [r for r in live(sandbox, "Lead") if r["Email"] == "a.lovelace@acme.io"]
    result = run("explain", "a.lovelace@acme.io")
    assert "possible duplicate of Salesforce contact" in result.output, result.output
    assert "first name same (Ada)" in result.output and "--allow-duplicate" in result.output
    failed_clearly(run("push", "--allow-duplicate"), "--allow-duplicate is for named people")
    result = run("push", "a.lovelace@acme.io", "--allow-duplicate")
    assert "leads_created 1" in result.output, result.output

    for output in outputs:
        for secret_value in secrets:
            assert secret_value not in output


# --- the mistakes a user makes: one clear line, exit 1, no traceback ------------------------------


def ready(crm: CrmWorld) -> None:
    crm.activate()
    crm.pull(manual=True)


def test_a_typo_in_the_policy_file_names_the_line_and_the_fix(crm: CrmWorld) -> None:
    Path("leadbridge.yaml").write_text(
        "version: 1\nsyncs:\n  salesforce:\n    push:\n      enabeld: false\n"
    )
    for command in (["policy", "check"], ["pull"], ["push"], ["plan", "salesforce"]):
        failed_clearly(
            lb(*command),
            "leadbridge.yaml: line 5: syncs.salesforce.push.enabeld: unknown setting",
            "(did you mean 'enabled'?)",
        )
    # `status` still shows the hub when the default policy file is broken; named, it fails.
    result = lb("status")
    assert result.exit_code == 0 and "people: 0 in sync" in result.output
    assert "reasons not shown: leadbridge.yaml: line 5" in result.output
    failed_clearly(lb("status", "--policy", "leadbridge.yaml"), "line 5", "did you mean")
    failed_clearly(lb("pull", "--policy", "nope.yaml"), "nope.yaml: file not found")


def test_policy_check_warns_on_a_crm_owned_field_and_refuses_a_restricted_source(
    crm: CrmWorld,
) -> None:
    Path("leadbridge.yaml").write_text(
        """\
version: 1
syncs:
  salesforce:
    push:
      account_source: {field: AccountSource, value: Web}
      people_source: {field: LeadSource, value: leadbridge}
    lead:
      fields:
        - {hub: last_name, crm: LastName, direction: both}
        - {hub: company_name, crm: Company, direction: hub_to_crm}
        - {hub: email, crm: Email, direction: hub_to_crm}
        - {hub: lead_status, crm: Status, direction: hub_to_crm}
"""
    )
    result = lb("policy", "check")
    assert result.exit_code == 0, result.output
    assert (
        "warning: Lead.Status (lead status) is written hub→CRM: the CRM should own it "
        "(direction: crm_to_hub)" in result.output
    )
    assert "policy ok (" in result.output and "error" not in result.output

    crm.org.restrict_picklist("Lead", "LeadSource")
    result = lb("policy", "check")
    assert result.exit_code == 1, result.output
    assert "error: source value 'leadbridge' is not a value of Lead.LeadSource (" in result.output
    assert "policy ok" not in result.output


def test_an_unknown_sync_names_the_ones_there_are(crm: CrmWorld) -> None:
    for command in (["pull", "--sync", "hubspot"], ["policy", "check", "--sync", "hubspot"]):
        failed_clearly(lb(*command), "no sync 'hubspot' (syncs: salesforce)")
    failed_clearly(lb("plan", "hubspot"), "no sync 'hubspot' (syncs: salesforce)")


def test_connect_with_a_bad_token_file(
    org: tuple[SalesforceSandbox, str, str], tmp_path: Path
) -> None:
    _, url, ca = org
    (tmp_path / "notjson.json").write_text("<html>login</html>")
    (tmp_path / "notoken.json").write_text('{"error": "invalid_grant"}')
    for name in ("missing.json", "notjson.json", "notoken.json"):
        failed_clearly(
            lb("connect", "salesforce", url, "--token-json", name, "--ca-file", ca),
            f"{name} is not a token response (JSON with access_token)",
        )
    assert "no connection" in lb("pull").output  # nothing was stored


def test_push_and_explain_of_someone_not_in_the_hub(crm: CrmWorld) -> None:
    ready(crm)
    failed_clearly(lb("push", "nobody@x.io"), "no person 'nobody@x.io' in the hub")
    failed_clearly(lb("explain", "nobody@x.io"), "no person 'nobody@x.io' in the hub")
    assert crm.rows("Lead") == []


def test_undo_of_a_run_that_does_not_exist(crm: CrmWorld) -> None:
    failed_clearly(lb("undo", "999"), "no run 999")
    ready(crm)  # run 1 is the pull: it wrote nothing to undo
    failed_clearly(lb("undo", "1"), "run 1 wrote nothing")


@pytest.mark.parametrize(
    "command",
    [
        ["policy", "check"],
        ["pull"],
        ["push"],
        ["push", "someone@x.io"],
        ["activate"],
        ["undo", "1"],
        ["plan", "salesforce"],
        ["explain", "someone@x.io"],
    ],
)
def test_crm_commands_without_a_salesforce_connection_say_what_to_do(command: list[str]) -> None:
    failed_clearly(
        lb(*command), "no connection named 'salesforce'", "leadbridge connect salesforce"
    )


def test_status_counts_failing_records_and_potential_duplicates(crm: CrmWorld) -> None:
    crm.org.create("Lead", {"LastName": "Twin", "Company": "T", "Email": "twin@t.io"})
    crm.org.create(
        "Lead", {"LastName": "Twin", "Company": "T", "Email": "twin@t.io"}, allow_dup_save=True
    )
    ready(crm)
    crm.person(last_name="Nofirm", email="nofirm@x.io")  # a lead needs a company: it fails
    result = lb("push", "nofirm@x.io")
    assert result.exit_code == 0 and "failed 1" in result.output, result.output
    status = lb("status").output
    assert "people: 1 in sync, 1 failing, 0 not linked" in status, status
    assert "potential duplicates: 1 people, 0 companies" in status
    api = make_web(crm.connections).api("GET", "/api/v1/status", token="read").json()
    assert api["crm"][0]["people"] == {"total": 2, "in_sync": 1, "failing": 1, "not_linked": 0}
    assert api["potential_duplicates"] == {"people": 1, "companies": 0}
