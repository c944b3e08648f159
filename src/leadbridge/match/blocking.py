"""Blocking: which pairs of records are worth scoring. All pairs of a million records would be
5×10¹¹; records that share a blocking key (the same e-mail, phone, name and company domain, …)
are a few per record. Every key's groups are found by sorting integer codes (numpy), and groups
larger than `cap` (a "gmail.com"-like key, or the thousand John Smiths) are left out: they hold
more noise than duplicates, and the other keys still pair the real duplicates in them.

Hand-written on numpy rather than DuckDB: the keys are already integer codes in memory, and a
sort per key costs less than moving a million rows into a database and the pairs back."""

from __future__ import annotations

import numpy as np

from leadbridge.match.keys import Codes, Keys
from leadbridge.match.records import Kind

# Multi-valued keys: "first*" is a first name with its nickname variants, "phone" both numbers.
# Each block has its group cap: keys of names alone (or an e-mail's local part) pair thousands
# of namesakes in a big CRM, so only their small groups are taken; the other keys still pair
# the duplicates among common names.
NAME_CAP = 8
DEFAULT_CAP = 60
PERSON_BLOCKS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("email",), DEFAULT_CAP),
    (("phone",), DEFAULT_CAP),
    (("local",), NAME_CAP),
    (("first*", "last"), NAME_CAP),
    (("first", "last_sound"), NAME_CAP),
    (("last", "domain"), DEFAULT_CAP),
    (("last", "company"), DEFAULT_CAP),
    (("first*", "domain"), DEFAULT_CAP),
    (("first*", "company"), DEFAULT_CAP),
    (("initial", "last_sound", "domain"), DEFAULT_CAP),
    (("initial", "last_initial", "domain"), DEFAULT_CAP),
    (("initial", "last_initial", "company"), DEFAULT_CAP),
    (("last", "postcode"), DEFAULT_CAP),
    (("first", "postcode"), DEFAULT_CAP),
    (("street", "postcode"), DEFAULT_CAP),
    (("first*", "street"), DEFAULT_CAP),
    (("last_sound", "postcode"), DEFAULT_CAP),
    (("first", "city"), DEFAULT_CAP),
    (("last", "city"), DEFAULT_CAP),
    (("street",), NAME_CAP),
    # Addresses with typos: the house number with the postcode, the town, the street's letters
    # or a name (people without e-mail or company, as in mailing lists and FEBRL).
    (("house", "postcode"), DEFAULT_CAP),
    (("house", "city"), DEFAULT_CAP),
    (("house", "street_name"), DEFAULT_CAP),
    (("street_name", "postcode"), DEFAULT_CAP),
    (("street_name", "city"), DEFAULT_CAP),
    (("house", "last_sound"), DEFAULT_CAP),
    (("house", "first*"), DEFAULT_CAP),
    (("first", "last_sound"), NAME_CAP),
)
COMPANY_BLOCKS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("domain",), DEFAULT_CAP),
    (("company",), DEFAULT_CAP),
    (("phone",), DEFAULT_CAP),
    (("street", "postcode"), DEFAULT_CAP),
)


def blocks(kind: Kind) -> tuple[tuple[tuple[str, ...], int], ...]:
    return PERSON_BLOCKS if kind == "person" else COMPANY_BLOCKS


CACHED = frozenset({"first*", "phone", "initial", "last_initial"})


def _rows(keys: Keys, name: str, cache: dict[str, tuple[Codes, Codes]]) -> tuple[Codes, Codes]:
    """(record, code) rows of one key; a record has none, one or several. The keys that take
    work to make (nickname variants, both phones, initials) are made once per audit (`cache`):
    the blocks share them; a column's rows are a view and a copy, made again (less memory)."""
    if name not in CACHED:
        return _key_rows(keys, name)
    if name not in cache:
        cache[name] = _key_rows(keys, name)
    return cache[name]


def _key_rows(keys: Keys, name: str) -> tuple[Codes, Codes]:
    n = keys.n
    if name == "first*":
        return keys.first_variants()
    if name == "phone":
        one, two = keys.phone_pair()
        records = np.concatenate((np.arange(n), np.arange(n)))
        return records, np.concatenate((one, two)).astype(np.int64)
    if name in ("initial", "last_initial"):
        column = keys.first if name == "initial" else keys.last
        initials = np.array([ord(v[0]) for v in column.values] + [-1], dtype=np.int64)
        return np.arange(n), initials[column.codes]
    column = {
        "email": keys.email,
        "local": keys.local,
        "first": keys.first,
        "last": keys.last,
        "last_sound": keys.last_sound,
        "domain": keys.domain,
        "company": keys.company,
        "street": keys.street,
        "postcode": keys.postcode,
        "city": keys.city,
        "house": keys.house,
        "street_name": keys.street_name,
    }[name]
    return np.arange(n), column.codes.astype(np.int64)


def _compress(codes: Codes) -> Codes:
    """Dense codes 0..k-1 (missing stays -1), so that combining keys cannot overflow."""
    out = np.full(codes.shape, -1, dtype=np.int64)
    present = codes >= 0
    if present.any():
        out[present] = np.unique(codes[present], return_inverse=True)[1]
    return out


# Combined codes are made dense again only past this (the product of the next part's range
# must not overflow int64); dense codes keep their order, so the groups and their order are
# the same either way.
DENSE_ABOVE = 1 << 31


def key_rows(
    keys: Keys, block: tuple[str, ...], cache: dict[str, tuple[Codes, Codes]] | None = None
) -> tuple[Codes, Codes]:
    """(record, combined code) rows of a block; rows missing any part are dropped."""
    cache = {} if cache is None else cache
    multi = [name for name in block if name in ("first*", "phone")]
    records, codes = _rows(keys, multi[0] if multi else block[0], cache)
    for name in block:
        if name == (multi[0] if multi else block[0]):
            continue
        other = _rows(keys, name, cache)[1][records]
        if not len(other):
            break
        if len(codes) and codes.max() >= DENSE_ABOVE:
            codes = _compress(codes)
        codes = np.where((codes >= 0) & (other >= 0), codes * (other.max() + 1) + other, -1)
    keep = codes >= 0
    return records[keep], codes[keep]


def pairs_in_groups(records: Codes, codes: Codes, cap: int) -> tuple[Codes, Codes]:
    """Every pair of records sharing a code, in groups of at most `cap` rows."""
    if len(codes) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    order = np.argsort(codes, kind="stable")
    sorted_codes, sorted_records = codes[order], records[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_codes)) + 1))
    sizes = np.diff(np.concatenate((starts, [len(sorted_codes)])))
    kept = (sizes >= 2) & (sizes <= cap)
    starts, sizes = starts[kept], sizes[kept]
    if not len(sizes):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    # Each row pairs with the rows after it in its group.
    rank = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    position = np.repeat(starts, sizes) + rank
    after = np.repeat(sizes, sizes) - 1 - rank
    left = np.repeat(position, after)
    step = np.arange(after.sum()) - np.repeat(np.cumsum(after) - after, after) + 1
    a, b = sorted_records[left], sorted_records[left + step]
    distinct = a != b
    return a[distinct], b[distinct]


def candidate_pairs(keys: Keys, kind: Kind, scale: float = 1.0) -> tuple[Codes, Codes]:
    """The distinct pairs (a < b) sharing any blocking key; with groups, only pairs across
    groups. `scale` multiplies the group caps."""
    found = []
    n = np.int64(max(keys.n, 1))
    cache: dict[str, tuple[Codes, Codes]] = {}
    for block, cap in blocks(kind):
        records, codes = key_rows(keys, block, cache)
        a, b = pairs_in_groups(records, codes, max(2, int(cap * scale)))
        if keys.groups is not None:
            across = keys.groups[a] != keys.groups[b]
            a, b = a[across], b[across]
        found.append(np.minimum(a, b) * n + np.maximum(a, b))
    if not found:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    joined = np.concatenate(found)
    joined.sort()  # in place: cheaper than np.unique's copy and hash
    unique = joined[np.concatenate(([True], joined[1:] != joined[:-1]))] if len(joined) else joined
    return unique // n, unique % n
