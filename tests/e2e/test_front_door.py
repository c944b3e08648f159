"""The hub's front door, as a user meets it: people imported from a CSV file reach Salesforce on
the next push; a re-import with a few changes reaches it within one tick of `serve`; one record
edited by hand likewise. Bad rows are listed and lose nothing; --strict writes nothing. Each
assertion is on what the sandbox holds."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from leadbridge.hub.tables import Company, OutboxItem, Person, utcnow

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)
from .crm_world import CrmWorld
from .test_crm_runner import crm_runs, runner

PEOPLE = 1000
COLUMNS = ["Email", "Email Status", "First Name", "Last Name", "Title", "Company Domain", "Company"]


def people_rows(n: int, title: str = "Buyer") -> list[dict[str, Any]]:
    return [
        {
            "Email": f"p{i}@co{i % 40}.io",
            "Email Status": "verified",
            "First Name": f"F{i}",
            "Last Name": f"L{i}",
            "Title": title,
            "Company Domain": f"co{i % 40}.io",
            "Company": f"Co {i % 40}",
        }
        for i in range(n)
    ]


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(crm: CrmWorld, model: Any) -> int:
    with crm.hub.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_thousand_imported_people_reach_salesforce_and_ten_changes_one_tick_later(
    crm: CrmWorld, tmp_path: Path
) -> None:
    crm.activate()
    r = runner(crm)
    now = utcnow()
    await r.run_due(now)  # the initial pull of an empty org
    rows = people_rows(PEOPLE)
    result = lb("import", "people", str(write_csv(tmp_path / "people.csv", rows)))
    assert result.exit_code == 0, result.output
    assert f"people: {PEOPLE} created" in result.output
    assert count(crm, Person) == PEOPLE and count(crm, Company) == 40

    done = await r.run_due(now + timedelta(seconds=5))  # the next tick: the outbox holds the import
    assert crm_runs(done) == [("salesforce", "push", "succeeded")]
    leads = {row["Email"]: row for row in crm.rows("Lead")}
    assert len(leads) == PEOPLE
    assert leads["p7@co7.io"]["Company"] == "Co 7" and leads["p7@co7.io"]["Title"] == "Buyer"

    # A re-import with ten changed titles: one tick later Salesforce holds them, nothing else.
    for row in rows[:10]:
        row["Title"] = "Head of Buying"
    result = lb("import", "people", str(write_csv(tmp_path / "again.csv", rows)))
    assert f"people: 0 created, 10 updated, {PEOPLE - 10} unchanged" in result.output
    done = await r.run_due(now + timedelta(seconds=10))
    (run,) = crm_runs(done)
    assert run == ("salesforce", "push", "succeeded")
    titles = {row["Email"]: row["Title"] for row in crm.rows("Lead")}
    assert sorted(e for e, t in titles.items() if t == "Head of Buying") == sorted(
        r["Email"] for r in rows[:10]
    )
    assert await r.run_due(now + timedelta(seconds=15)) == []  # drained

    # One field edited by hand: the next tick sends it.
    result = lb("edit", "person", "p13@co13.io", "title=CFO", "phone=+1 555 0103")
    assert "person" in result.output and "'Buyer' → 'CFO'" in result.output
    await r.run_due(now + timedelta(seconds=20))
    lead = next(row for row in crm.rows("Lead") if row["Email"] == "p13@co13.io")
    assert (lead["Title"], lead["Phone"]) == ("CFO", "+1 555 0103")


def test_bad_rows_are_listed_and_lose_nothing_and_strict_writes_nothing(
    crm: CrmWorld, tmp_path: Path
) -> None:
    rows = people_rows(3)
    rows[1]["Email"] = "not-an-address"
    rows[2]["Email"] = rows[0]["Email"].upper()  # the same person twice
    path = write_csv(tmp_path / "bad.csv", rows)
    result = lb("import", "people", "--strict", str(path))
    assert result.exit_code == 1 and "nothing imported" in result.output
    assert count(crm, Person) == 0 and count(crm, OutboxItem) == 0
    result = lb("import", "people", str(path))
    assert result.exit_code == 1
    assert "people: 1 created" in result.output
    assert "row 3:" in result.output and "row 4: e-mail p0@co0.io already on row 2" in result.output
    assert count(crm, Person) == 1


def test_edit_refuses_what_it_cannot_do_in_one_line(crm: CrmWorld) -> None:
    for args, expected in (
        (["edit", "person", "nobody@x.io", "title=X"], "no person 'nobody@x.io' in the hub"),
        (["edit", "company", "acme.io", "bogus=1"], "no company 'acme.io' in the hub"),
        (["edit", "person", "1", "title"], "'title' is not field=value"),
    ):
        result = lb(*args)
        assert result.exit_code == 1 and expected in result.output, result.output
    crm.company(name="Acme", domain="acme.io")
    result = lb("edit", "company", "acme.io", "icp_fit=great", "employee_count=lots")
    assert result.exit_code == 1 and "employee count must be a whole number" in result.output
    result = lb("edit", "company", "acme.io", "icp_fit=great")
    assert "icp_fit 'unknown' → 'strong'" in result.output
