"""What a person reads from the CLI (issue 16, "The CLI a user reads"): a plan lists what will
change before what will not, and says what it left out; one problem is one error-log entry,
seen again it is counted, not failed again; every hint says what to do; the error table has
the field, the count and the last sighting and fits 100 columns; the setup window comes from
the policy."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from leadbridge.hub.tables import ErrorLogEntry, Person, SyncRun
from leadbridge.policy.crm import CrmSync, SourceSetting
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp

from ..salesforce_oauth import oauth_token_body
from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)
from .conftest import World, lead
from .crm_world import CrmWorld
from .test_crm_owners_and_custom_fields import hub_user, owner_from_hub
from .web_world import make_web

CONTACTS_POLICY = """\
version: 1
syncs:
  salesforce:
    push:
      create_people_as: Contact
      contacts: {mode: stages, stages: [Interested]}
"""


def ready(crm: CrmWorld, policy: CrmSync | None = None) -> None:
    crm.activate()
    crm.pull(policy, manual=True)


def doubled_word(text: str) -> str | None:
    found = re.search(r"\b(\w+) \1\b", text)
    return found.group(0) if found else None


# --- plan ----------------------------------------------------------------------------------------


def test_plan_lists_changes_first_hides_in_sync_and_says_what_it_cuts(crm: CrmWorld) -> None:
    acme = crm.org.create("Account", {"Name": "Acme", "Website": "acme.io"}).id
    for i in range(35):
        crm.org.create(
            "Contact", {"LastName": f"P{i:02}", "Email": f"p{i:02}@acme.io", "AccountId": acme}
        )
    ready(crm)  # 35 contacts and their account, linked and in sync
    Path("leadbridge.yaml").write_text(CONTACTS_POLICY)
    cold = crm.person(last_name="Cold", email="cold@x.io", stage="Cold")
    nofirm = crm.person(last_name="Nofirm", email="nofirm@x.io", stage="Interested")
    with crm.hub.session() as s:
        edited = s.scalar(select(Person.id).where(Person.email_key == "p07@acme.io"))
    assert edited is not None
    crm.edit_person(edited, title="CEO")
    # The newest record: under the old listing (hub order, in-sync rows too, 30 rows, no
    # notice) this create was cut off unseen.
    new = crm.person(
        last_name="New", email="new@acme.io", stage="Interested", company={"domain": "acme.io"}
    )

    result = lb("plan", "salesforce")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"person {new}: create Contact [Email, LastName] — new")
    assert lines[1].startswith(f"person {edited}: update Contact ") and "[Title]" in lines[1]
    assert lines[2] == (
        f"person {nofirm}: error Contact — a Salesforce contact needs an account and the person "
        "has no company (to fix: give the person a company in the hub)"
    )
    assert lines[3] == f"person {cold}: skip — contact stage 'Cold' is not selected"
    assert lines[4:] == [
        "company_skip 1, person_create 1, person_error 1, person_skip 35, person_update 1",
        "35 in sync, not listed (--all lists them)",
    ]
    assert "in sync" not in "\n".join(lines[:4])

    cut = lb("plan", "salesforce", "--show", "2").output.splitlines()
    assert [line.split(":")[0] for line in cut[:2]] == [f"person {new}", f"person {edited}"]
    assert cut[2] == "… 2 more (use --show 4)"
    assert cut[3].startswith("company_skip 1, person_create 1")

    everything = lb("plan", "salesforce", "--all", "--show", "100").output.splitlines()
    rows = everything[:-1]
    assert len(rows) == 39 and rows[:4] == lines[:4]  # changes first, in-sync rows after
    assert all(row.endswith("— in sync") for row in rows[4:]), rows[4:]
    assert everything[-1] == lines[4]  # the counts line stays; nothing was cut
    assert "more (use --show" not in "\n".join(everything)

    counts_only = lb("plan", "salesforce", "--show", "0").output.splitlines()
    assert counts_only == [lines[4]]


def test_the_apollo_plan_hides_unchanged_and_says_what_it_cuts(world: World) -> None:
    world.companies(
        [lead("nofit.com", icp_fit="not_a_fit")]  # the oldest row: listed after the creates
        + [lead(f"c{i}.com") for i in range(5)]
    )
    result = lb("plan", "apollo-push", "--show", "3")
    assert result.exit_code == 0, result.output
    table = [line for line in result.output.splitlines() if "│" in line]
    assert [line.split("│")[3].strip() for line in table] == ["create"] * 3
    assert "… 3 more (use --show 6)" in result.output
    listed = lb("plan", "apollo-push").output
    assert listed.index("c4.com") < listed.index("nofit.com")  # changes first
    assert "more (use --show" not in listed

    assert "5 created" in lb("run", "apollo-push").output
    steady = lb("plan", "apollo-push").output
    assert "plan: 5 unchanged, 1 skip" in steady
    assert "5 unchanged, not listed (--all lists them)" in steady
    assert "nofit.com" in steady and "c0.com" not in steady
    everything = lb("plan", "apollo-push", "--all").output
    assert all(f"c{i}.com" in everything for i in range(5)) and "(--all" not in everything


# --- one problem, one entry -------------------------------------------------------------------


def push_statuses(crm: CrmWorld) -> list[str]:
    with crm.hub.session() as s:
        return list(
            s.scalars(select(SyncRun.status).where(SyncRun.job == "crm_push").order_by(SyncRun.id))
        )


def crm_sync_rows(crm: CrmWorld) -> int:
    with crm.hub.session() as s:
        count = s.scalar(
            select(func.count()).select_from(ErrorLogEntry).where(ErrorLogEntry.job == "crm_sync")
        )
        return int(count or 0)


def test_one_problem_is_one_entry_and_a_known_one_is_held_not_failed(crm: CrmWorld) -> None:
    zed = crm.company(name="Zed", domain="zed.io")
    first = crm.org.create("Account", {"Name": "Zed", "Website": "zed.io"}).id
    second = crm.org.create(
        "Account", {"Name": "Zed Two", "Website": "https://www.zed.io"}, allow_dup_save=True
    ).id
    ready(crm)
    Path("leadbridge.yaml").write_text(CONTACTS_POLICY)
    crm.person(last_name="Zee", email="z@zed.io", stage="Interested", company=zed)

    outputs = [lb("push").output for _ in range(3)]
    assert re.match(r"push run \d+: failed 2\nsee `leadbridge errors`\n$", outputs[0]), outputs
    for output in outputs[1:]:
        assert re.match(
            r"push run \d+: nothing to do\n"
            r"held: 2 known problems, not sent \(see `leadbridge errors`\)\n$",
            output,
        ), output
    assert push_statuses(crm) == ["partial", "succeeded", "succeeded"]
    assert crm_sync_rows(crm) == 2  # the company's and the person's, each counted, never added

    table = lb("errors").output
    for record in ("zed.io", "z@zed.io"):
        (row,) = [line for line in table.splitlines() if f" {record} " in line and "3×" in line]
        assert "permanent" in row
    assert "1×" in table  # the pull's duplicate flag: seen once
    api = make_web(crm.connections).api("GET", "/api/v1/errors", token="read").json()
    assert sorted(e["count"] for e in api["items"]) == [1, 3, 3]

    # The fix the hint names: the account that is not this company gets its own domain.
    crm.org.update("Account", second, {"Website": "zedtwo.io"})
    crm.org.update("Account", first, {"Description": "the real Zed"})
    assert lb("pull").exit_code == 0
    result = lb("push")
    assert "contacts_created 1" in result.output and "held" not in result.output, result.output
    assert crm.link("company", zed) == {"Account": first}
    (contact,) = crm.rows("Contact")
    assert contact["AccountId"] == first
    assert [e for e in crm.errors() if e.job == "crm_sync"] == []  # both problems are gone
    assert push_statuses(crm)[-1] == "succeeded"


def test_a_company_that_failed_is_not_sent_again_with_each_new_person(crm: CrmWorld) -> None:
    ready(crm)
    crm.org.restrict_picklist("Account", "AccountSource")
    Path("leadbridge.yaml").write_text(
        CONTACTS_POLICY + "      account_source: {field: AccountSource, value: leadbridge}\n"
    )
    pid = crm.person(
        last_name="Zee", email="z@zed.io", stage="Interested",
        company={"name": "Zed", "domain": "zed.io"},
    )  # fmt: skip
    outputs = [lb("push").output for _ in range(3)]
    # Companies are written a page before people are planned: the account fails, and its person
    # is held back with it (skipped), not sent to fail again.
    assert "failed 1, skipped 1" in outputs[0]
    assert all(re.match(r"push run \d+: skipped 1\n$", o) for o in outputs[1:]), outputs
    assert push_statuses(crm) == ["partial", "succeeded", "succeeded"]
    (entry,) = crm.errors()
    assert entry.field == "AccountSource" and entry.count == 1  # not tried again: not seen again
    plan = lb("plan", "salesforce").output
    assert (
        f"person {pid}: skip Contact [Email, LastName] — its account is held back: failed "
        "before with the same data (Account.AccountSource: 'leadbridge' is not a value" in plan
    ), plan
    assert crm.rows("Account") == [] and crm.rows("Contact") == []


# --- hints --------------------------------------------------------------------------------------


def test_the_usual_errors_say_what_to_do_with_the_field(
    crm: CrmWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fay = crm.org.add_user("fay@team.example", "Fay", "Rep")
    hub_fay = hub_user(crm, "fay@team.example")
    crm.company(name="Zed", domain="zed.io")  # before the first pull: two accounts match it
    crm.org.create("Account", {"Name": "Zed", "Website": "zed.io"})
    crm.org.create(
        "Account", {"Name": "Zed Two", "Website": "https://www.zed.io"}, allow_dup_save=True
    )
    policy = owner_from_hub(crm.policy)
    policy.push.people_source = SourceSetting(field="LeadSource", value="leadbridge")
    ready(crm, policy)
    crm.org.restrict_picklist("Lead", "LeadSource")
    pick = crm.person(
        last_name="Pick", email="pick@list.io", company={"name": "PL", "domain": "pl.io"}
    )
    crm.push(policy, person_ids=[pick], company_ids=[], manual=True)
    crm.org.restrict_picklist("Lead", "LeadSource", restricted=False)  # the others get past it
    crm.person(first_name="Nolast", email="nolast@x.io", company={"name": "NL", "domain": "nl.io"})
    # Fay leaves while the push runs: deactivated after leadbridge read the users.
    crm.person(
        last_name="Owned", email="owned@x.io", owner_id=hub_fay,
        company={"name": "OW", "domain": "ow.io"},
    )  # fmt: skip
    original = crm.org.records["User"][fay]
    real_push = crm.push

    def push_as_fay_leaves(*args: Any, **kw: Any) -> Any:
        from leadbridge.sandbox.salesforce import validation

        check_owner = validation.check_owner

        def deactivated(org: Any, sobject: str, values: dict[str, Any]) -> None:
            original["IsActive"] = False  # never read back by this push's pull
            check_owner(org, sobject, values)

        monkeypatch.setattr(validation, "check_owner", deactivated)
        return real_push(*args, **kw)

    push_as_fay_leaves(policy)
    by_record = {
        row["record"]: row
        for row in csv.DictReader(io.StringIO(_export(tmp_path / "errors.csv"), newline=""))
        if row["job"] == "crm_sync"  # not the pull's duplicate flag of zed.io
    }
    assert set(by_record) >= {"zed.io", "pick@list.io", "nolast@x.io", "owned@x.io"}, by_record

    ambiguous = by_record["zed.io"]
    assert ambiguous["message"].startswith("ambiguous account: 2 Salesforce accounts match by ")
    assert ambiguous["how to fix"] == (
        "merge the duplicate accounts in Salesforce into one, or correct the domain of the "
        "account that is not this company"
    )
    picklist = by_record["pick@list.io"]
    assert picklist["field"] == "LeadSource"
    assert picklist["message"] == (
        "Lead.LeadSource: 'leadbridge' is not a value of the restricted picklist"
    )
    assert picklist["how to fix"].startswith(
        "use one of the picklist's values (in the hub, or in the policy for a source field), "
        "or add the value to the picklist in Salesforce; allowed values: Web, "
    )
    required = by_record["nolast@x.io"]
    assert (required["field"], required["message"]) == (
        "LastName",
        "Lead: required fields are missing: LastName",
    )
    assert required["how to fix"] == (
        "fill the field in the hub (the policy must map a hub field to it), or give it a "
        "default value in Salesforce"
    )
    inactive = by_record["owned@x.io"]
    assert inactive["field"] == "OwnerId" and "inactive user" in inactive["message"]
    assert inactive["how to fix"] == (
        "give the record an active owner in the hub, or reactivate the user in Salesforce"
    )
    for row in by_record.values():
        message, hint = row["message"], row["how to fix"]
        assert hint and hint not in message and message not in hint, row
        assert doubled_word(message) is None and doubled_word(hint) is None, row
        assert row["count"] == "1" and row["last_seen_at"] >= row["created_at"]

    # The table a person reads: every column, in 100 columns.
    monkeypatch.setenv("COLUMNS", "100")
    table = lb("errors").output
    lines = table.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 100, table
    assert re.match(
        r"\s*id\s+record\s+field\s+class\s+seen \(UTC\)\s+problem → how to fix", lines[0]
    )
    for field in ("LeadSource", "LastName", "OwnerId"):
        assert field in table
    assert table.count("1×, last") == len(by_record) + 1  # and the pull's duplicate flag
    assert "→ give the record an active owner in the hub" in table
    monkeypatch.setenv("COLUMNS", "250")


def _export(path: Path) -> str:
    result = lb("errors", "--csv", str(path))
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8-sig")


# --- the setup window -----------------------------------------------------------------------------


@pytest.fixture
def org() -> Iterator[tuple[SalesforceSandbox, str, str]]:
    sandbox = SalesforceSandbox(seed=11)
    cert, key, ca = sandbox.tls_files()
    with ServedApp(sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sandbox.set_base_url(served.url)
        yield sandbox, served.url, str(ca)


def connect(
    org: tuple[SalesforceSandbox, str, str], *extra: str, monkeypatch: pytest.MonkeyPatch
) -> Any:
    sandbox, url, ca = org
    body, client_id, secret = oauth_token_body(sandbox, url, ca)
    Path("tok.json").write_text(json.dumps(body))
    monkeypatch.setenv("LEADBRIDGE_SF_CLIENT_SECRET", secret)
    return lb(
        "connect", "salesforce", url, "--token-json", "tok.json", "--ca-file", ca,
        "--client-id", client_id, *extra,
    )  # fmt: skip


def window_end(status: str, name: str = "salesforce") -> datetime:
    found = re.search(
        rf"{name} sync \((?:org|portal) \w+\): setup window open until (\S+ \S+) UTC", status
    )
    assert found, status
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def near(when: datetime, hours: float) -> bool:
    return abs(when - (datetime.now(UTC) + timedelta(hours=hours))) < timedelta(minutes=2)


def test_the_setup_window_comes_from_the_policy_and_a_later_change_does_not_move_it(
    org: tuple[SalesforceSandbox, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lb("init").exit_code == 0
    Path("leadbridge.yaml").write_text(
        "version: 1\nsyncs:\n  salesforce:\n    setup_window_hours: 2\n"
    )
    result = connect(org, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "setup window is open for 2 h (setup_window_hours of the policy)" in result.output
    until = window_end(lb("status").output)
    assert near(until, 2), until

    # A longer window in the policy later: the open window keeps its end, and says so.
    Path("leadbridge.yaml").write_text(
        "version: 1\nsyncs:\n  salesforce:\n    setup_window_hours: 48\n"
    )
    check = lb("policy", "check").output
    assert (
        f"note: the setup window is open until {until:%Y-%m-%d %H:%M} UTC, as set when the "
        "connection was made (setup_window_hours applies to new connections); `leadbridge "
        "activate` ends it now" in check
    ), check
    assert window_end(lb("status").output) == until
    assert "reconnected" in connect(org, monkeypatch=monkeypatch).output  # new tokens: kept
    assert window_end(lb("status").output) == until

    # The option wins over the policy, within the policy's range.
    result = connect(org, "--name", "other", "--setup-hours", "1", monkeypatch=monkeypatch)
    assert "setup window is open for 1 h (--setup-hours)" in result.output, result.output
    assert near(window_end(lb("status").output, "other"), 1)
    result = connect(org, "--name", "third", "--setup-hours", "1000", monkeypatch=monkeypatch)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert "--setup-hours 1000: input should be less than or equal to 720" in result.output
    assert "third" not in lb("status").output


def test_a_broken_policy_file_does_not_stop_a_connect(
    org: tuple[SalesforceSandbox, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Path("leadbridge.yaml").write_text("version: 1\nsyncs:\n  salesforce:\n    setup_windw: 2\n")
    result = connect(org, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "warning: leadbridge.yaml: line 4: " in result.output
    assert "open for 6 h (the default: leadbridge.yaml could not be read)" in result.output
    assert near(window_end(lb("status").output), 6)
    # A policy named on the command line must be usable.
    result = connect(org, "--name", "other", "--policy", "leadbridge.yaml", monkeypatch=monkeypatch)
    assert result.exit_code == 1 and "line 4" in result.output and "did you mean" in result.output


def test_connect_hubspot_takes_the_window_from_the_policy_too() -> None:
    from leadbridge.sandbox.hubspot import HubSpotSandbox

    Path("leadbridge.yaml").write_text(
        "version: 1\nsyncs:\n  hubspot:\n    connection: hubspot\n    setup_window_hours: 3\n"
    )
    sandbox = HubSpotSandbox(seed=13)
    with ServedApp(sandbox.app) as served:
        sandbox.set_base_url(served.url)
        token = sandbox.issue_private_app_token()
        result = lb("connect", "hubspot", "--token", token, "--base-url", served.url)
        assert result.exit_code == 0, result.output
        assert "setup window is open for 3 h (setup_window_hours of the policy)" in result.output
        assert near(window_end(lb("status").output, "hubspot"), 3)
