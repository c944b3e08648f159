"""Reading a CSV file a person exported from a spreadsheet or a CRM, whatever it looks like.

`open_csv` detects the encoding and the delimiter, matches the header loosely against the
fields a caller knows (aliases), and `CsvTable.rows()` yields each data row as a `Row`
(number, {field: cell}) or a `BadRow` (number, reason). Row numbers are spreadsheet row
numbers: the header is row 1, and a cell spanning several lines is still one row. A file that
cannot be read at all raises `CsvFileError` with one line saying why.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
MAX_HEADER_CELL = 1_000  # no real column name is longer: the first line is not a header
SNIFF_RECORDS = 50

# The csv module's own cap (131,072 characters a field) raises mid-record: the rest of a long
# quoted cell is then parsed as rows of its own. Lift it, and let callers reject long values by
# their column's own length, so one oversized cell is one rejected row and nothing else moves.
csv.field_size_limit(2**31 - 1)


class CsvFileError(ValueError):
    """The file as a whole cannot be read (missing, not text, no usable header)."""


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, str]  # field (or normalised header when no alias matched) -> stripped cell


@dataclass(frozen=True)
class BadRow:
    number: int
    reason: str


def header_key(text: str) -> str:
    """A header cell as compared: case, width, spacing, `_` and `-` do not matter."""
    text = unicodedata.normalize("NFKC", text).strip().strip("\"'").lower()
    return re.sub(r"[\s_\-]+", " ", text).strip()


@dataclass(frozen=True)
class Aliases:
    """The names a field may have in a header: {"employee_count": ("employees", "headcount")}."""

    names: Mapping[str, Sequence[str]]
    _index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for target, names in self.names.items():
            for name in (target, *names):
                index.setdefault(header_key(name), target)
        object.__setattr__(self, "_index", index)

    def field_for(self, header: str) -> str | None:
        return self._index.get(header_key(header))

    def match(self, header: Sequence[str]) -> dict[str, int]:
        """field -> column index (the first column wins when two name the same field)."""
        found: dict[str, int] = {}
        for index, name in enumerate(header):
            target = self.field_for(name)
            if target is not None and target not in found:
                found[target] = index
        return found


def decode(data: bytes, path: Path | str = "file") -> tuple[str, str]:
    """The text of a file and the encoding it was read with.

    A BOM decides (UTF-8, UTF-16, UTF-32); then strict UTF-8; then the Windows Western code
    page (latin-1 for the five bytes cp1252 leaves undefined). charset-normalizer cannot be
    trusted to choose among single-byte code pages on files this short (it reads "Café
    Müller" in cp1252 as Baltic cp775, and a few accented names as mac_iceland), so it is
    asked two narrower questions: does the file read cleanly as cp1252 (then it is), and if
    not, does it look like another script (Cyrillic, Greek, CJK: then it is refused rather
    than imported as mojibake). A legacy non-Latin file it cannot tell (short Shift-JIS, Hebrew) is
    read as cp1252: a known limit; such files are rare next to UTF-8 exports.
    """
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as exc:
                raise CsvFileError(
                    f"{path}: starts with a {codec} byte-order mark but is not {codec} "
                    f"({exc.reason} at byte {exc.start})"
                ) from None
    if (wide := _utf16_without_bom(data)) is not None:
        return wide
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = "cp1252"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined: latin-1 reads every byte
        codec, text = "latin-1", data.decode("latin-1")
    if charset_normalizer.from_bytes(data, cp_isolation=[codec.replace("-", "_")]).best():
        return text, codec  # it reads cleanly as Western text
    guess = charset_normalizer.from_bytes(data).best()
    if guess is None and _binary(text):
        raise CsvFileError(f"{path}: not a text file (no encoding reads it as text)")
    if guess is not None and not _latin(str(guess)):
        raise CsvFileError(
            f"{path}: not UTF-8, and not Western text either (it looks like {guess.encoding}); "
            "save it as UTF-8 and import again"
        )
    return text, codec


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM, told by where its NULs fall: text that is mostly ASCII has a NUL
    in every other byte, odd positions little-endian, even big-endian. (ASCII in UTF-16 is
    valid UTF-8, NULs and all; and charset-normalizer misjudges byte order in short files.)"""
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if len(data) % 2 or max(even, odd) < len(data) // 6 or min(even, odd) > max(even, odd) // 20:
        return None
    codec = "utf-16-le" if odd > even else "utf-16-be"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else (text, codec)


def _latin(text: str) -> bool:
    return all("LATIN" in unicodedata.name(c, "") for c in text if ord(c) > 127 and c.isalpha())


def _binary(text: str) -> bool:
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\r\n")
    return controls > len(text) // 100


def _records(text: str, delimiter: str) -> Iterator[list[str]]:
    # newline="": a CR, LF or CRLF ends a record, and line breaks inside quotes are kept.
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def sniff_delimiter(text: str, aliases: Aliases | None = None) -> str:
    """The delimiter whose header names the most known fields; then the one that splits the
    first rows into the same number of cells, the most of them; comma on a tie.

    csv.Sniffer guesses from character frequencies and misreads short files (a comma inside
    a company name beats the semicolons); knowing the column names is the stronger signal.
    """
    best, best_score = ",", (-1, -1, -1)
    for delimiter in DELIMITERS:
        sample = []
        try:
            for record in _records(text, delimiter):
                if any(cell.strip() for cell in record):
                    sample.append(record)
                if len(sample) >= SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if not sample:
            continue
        header = sample[0]
        known = len(aliases.match(header)) if aliases else 0
        consistent = sum(1 for record in sample if len(record) == len(header))
        score = (known, consistent if len(header) > 1 else 0, len(header))
        if score > best_score:
            best, best_score = delimiter, score
    return best


@dataclass
class CsvTable:
    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    columns: dict[str, int]  # field -> index, for the fields an alias matched
    text: str = field(repr=False)

    @property
    def keys(self) -> list[str]:
        """The key of every column: its field, else its normalised header."""
        by_index = {index: name for name, index in self.columns.items()}
        return [by_index.get(i, header_key(h)) for i, h in enumerate(self.header)]

    def rows(self) -> Iterator[Row | BadRow]:
        keys = self.keys
        records = _records(self.text, self.delimiter)
        number, seen_header = 0, False
        for record in records:
            number += 1
            blank = not any(cell.strip() for cell in record)
            if not seen_header or blank:
                seen_header = seen_header or not blank  # blank lines before it are skipped
                continue
            if len(record) > len(keys):
                extra = len(record) - len(keys)
                yield BadRow(
                    number,
                    f"more cells than header columns ({extra} extra: a "
                    f"{DELIMITER_NAMES[self.delimiter]} inside an unquoted value?)",
                )
                continue
            cells: dict[str, str] = {}
            for key, cell in zip(keys, record, strict=False):
                cells.setdefault(key, cell.strip())
            nul = next((k for k, v in cells.items() if "\x00" in v), None)
            if nul is not None:
                yield BadRow(
                    number,
                    f"column {nul!r} contains a NUL character (is the file binary, or saved "
                    "in another encoding?)",
                )
                continue
            yield Row(number, cells)


def open_csv(path: Path, aliases: Mapping[str, Sequence[str]] | Aliases) -> CsvTable:
    """Read, decode and sniff `path`, and match its header; CsvFileError when it cannot."""
    known = aliases if isinstance(aliases, Aliases) else Aliases(aliases)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CsvFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CsvFileError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise CsvFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    text, encoding = decode(data, path)
    delimiter = sniff_delimiter(text, known)
    header: list[str] = []
    for record in _records(text, delimiter):
        if any(cell.strip() for cell in record):
            header = [cell.strip() for cell in record]
            break
    if not header:
        raise CsvFileError(f"{path}: empty file, or no header row")
    for index, name in enumerate(header, start=1):
        if len(name) > MAX_HEADER_CELL:
            raise CsvFileError(
                f"{path}: header cell {index} is {len(name):,} characters long; "
                "the first row must name the columns"
            )
        if "\x00" in name:
            raise CsvFileError(
                f"{path}: the header row contains a NUL character (a binary file, or another "
                "encoding?)"
            )
    return CsvTable(path, encoding, delimiter, header, known.match(header), text)
