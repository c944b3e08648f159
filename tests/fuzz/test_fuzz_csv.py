"""Fuzzing `leadbridge import companies` and `import users` through the CLI: random bytes,
encodings, delimiters, huge cells, formulas, NULs. Never a traceback (the runner fails on
one), never a half-written import: a --strict import that fails leaves the hub as it was, a
lenient one writes exactly the good rows."""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from leadbridge.hub.db import Hub
from leadbridge.hub.import_values import ICP_SYNONYMS
from leadbridge.hub.tables import Company, User
from leadbridge.settings import get_settings
from tests.e2e.cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)

FUZZ = settings(
    max_examples=int(os.environ.get("LEADBRIDGE_FUZZ_EXAMPLES", "40")),  # more for a deep run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SUMMARY = re.compile(r"(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) rejected")
# Western text a cp1252 file can hold, with the characters that break naive CSV handling.
WESTERN = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .&'àéèüöäßñçøåÆØÅ’“”–—,;|\t\"\n=+-@"
FORMULAS = ["=1+1", '=HYPERLINK("http://x")', "+1 555 0100", "-2+3", "@SUM(A1)"]
STAGES = ["pending", "target", "education", "solution", "evaluation", "ready_to_buy"]


def snapshot(hub: Hub) -> dict[str, tuple[Any, ...]]:
    with hub.session() as s:
        return {
            c.domain or "": (c.name, c.employee_count, c.icp_fit, c.updated_at)
            for c in s.scalars(select(Company))
        }


def summary(output: str) -> tuple[int, ...] | None:
    match = SUMMARY.search(output)
    return tuple(int(n) for n in match.groups()) if match else None


@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.builds(
            lambda head, body: head + body,
            st.sampled_from([b"name,domain\n", b"domain;icp_fit\n", b"\xef\xbb\xbfdomain\n"]),
            st.binary(max_size=600),
        ),
    ),
    strict=st.booleans(),
)
@FUZZ
def test_random_bytes_never_crash_and_count_what_they_write(
    tmp_path: Path, data: bytes, strict: bool
) -> None:
    hub = Hub.open(get_settings().database_url)
    before = snapshot(hub)
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    result = lb("import", "companies", str(path), *(["--strict"] if strict else []))
    after = snapshot(hub)
    hub.dispose()
    assert result.exit_code in (0, 1), result.output
    counts = summary(result.output)
    if counts is None:  # a file error, or a --strict refusal: nothing written
        assert after == before
        return
    created, _, _, rejected = counts
    assert len(after) == len(before) + created
    assert not strict or rejected == 0  # a strict run with bad rows prints no summary


@dataclass(frozen=True)
class Line:
    cells: dict[str, str]
    good: bool
    expected: tuple[str | None, int | None, str] | None = None  # name, employees, icp


def good_line(n: int) -> st.SearchStrategy[Line]:
    def build(name: str, employees: int, commas: bool, icp: tuple[str, str]) -> Line:
        shown = f"{employees:,}" if commas else str(employees)
        cells = {"name": name, "domain": f"good{n}.com", "employees": shown, "icp_fit": icp[0]}
        return Line(cells, True, (name.strip() or None, employees, icp[1]))

    return st.builds(
        build,
        st.one_of(st.text(WESTERN, max_size=40), st.sampled_from(FORMULAS)),
        st.integers(0, 2**31 - 1),
        st.booleans(),
        st.sampled_from([(n, fit) for fit, names in ICP_SYNONYMS.items() for n in names]),
    )


def bad_line(n: int) -> st.SearchStrategy[Line]:
    base = {"name": f"Bad {n}", "domain": f"bad{n}.com", "employees": "1", "icp_fit": "high"}
    spoilers: list[dict[str, str]] = [
        {"icp_fit": "meh"},
        {"employees": str(2**63)},
        {"employees": "12x"},
        {"employees": "-5"},
        {"name": "A\x00B"},
        {"name": "N" * 256},
        {"name": "huge " * 28_000},  # over the csv module's own 131,072-character limit
        {"domain": ""},
        {"domain": "not a domain"},
        {"extra": "one cell too many"},
    ]
    return st.sampled_from(spoilers).map(lambda spoil: Line({**base, **spoil}, False))


@st.composite
def company_files(draw: st.DrawFn) -> tuple[list[Line], str, str]:
    kinds = draw(st.lists(st.booleans(), min_size=1, max_size=12))
    lines = [draw(good_line(i) if good else bad_line(i)) for i, good in enumerate(kinds)]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    return lines, encoding, delimiter


def render(lines: list[Line], encoding: str, delimiter: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    header = ["name", "domain", "employees", "icp_fit"]
    writer.writerow(header)
    for line in lines:
        extra = [line.cells["extra"]] if "extra" in line.cells else []
        writer.writerow([*(line.cells[k] for k in header), *extra])
    return out.getvalue().encode(encoding)


@given(file=company_files(), strict=st.booleans())
@FUZZ
def test_an_import_writes_exactly_the_good_rows(
    tmp_path: Path, file: tuple[list[Line], str, str], strict: bool
) -> None:
    lines, encoding, delimiter = file
    hub = Hub.open(get_settings().database_url)
    with hub.session() as s:
        s.execute(delete(Company))
    path = tmp_path / "companies.csv"
    path.write_bytes(render(lines, encoding, delimiter))
    result = lb("import", "companies", str(path), *(["--strict"] if strict else []))
    stored = snapshot(hub)
    hub.dispose()
    bad_rows = {i + 2 for i, line in enumerate(lines) if not line.good}
    reported = {int(n) for n in re.findall(r"row (\d+):", result.output)}
    assert reported == bad_rows, result.output
    assert result.exit_code == (1 if bad_rows else 0)
    if strict and bad_rows:
        assert "nothing imported" in result.output and stored == {}
        return
    good = {line.cells["domain"]: line.expected for line in lines if line.good}
    assert {d: v[:3] for d, v in stored.items()} == good


@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.builds(
            lambda body, enc, delimiter: ("email" + delimiter + "first_name\n" + body).encode(
                enc, errors="replace"
            ),
            st.text(max_size=200),
            st.sampled_from(["utf-8", "utf-16", "cp1252"]),
            st.sampled_from([",", ";", "\t", "|"]),
        ),
    ),
    strict=st.booleans(),
)
@FUZZ
def test_users_import_never_crashes_nor_half_writes(
    tmp_path: Path, data: bytes, strict: bool
) -> None:
    hub = Hub.open(get_settings().database_url)
    with hub.session() as s:
        before = {u.email: u.first_name for u in s.scalars(select(User))}
    path = tmp_path / "users.csv"
    path.write_bytes(data)
    result = lb("import", "users", str(path), *(["--strict"] if strict else []))
    with hub.session() as s:
        after = {u.email: u.first_name for u in s.scalars(select(User))}
    hub.dispose()
    assert result.exit_code in (0, 1), result.output
    counts = summary(result.output)
    if counts is None:
        assert after == before
    else:
        assert len(after) == len(before) + counts[0]
