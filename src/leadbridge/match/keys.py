"""Records to match keys, as integer codes per field (-1: missing): what blocking groups on and
scoring compares. Each distinct raw value is normalised once (`leadbridge.normalize`), so a
million records cost one pass to encode plus the work on their distinct values."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jellyfish
import numpy as np
from anyascii import anyascii

from leadbridge.match.records import Records
from leadbridge.normalize.company import company_core
from leadbridge.normalize.country import country_key
from leadbridge.normalize.domain import normalize_domain
from leadbridge.normalize.email import FREE_MAIL, ROLE_LOCALS, canonical_email, email_parts
from leadbridge.normalize.person import first_name_key, first_name_variants, last_name_key
from leadbridge.normalize.phone import phone_keys

Codes = np.ndarray


@dataclass
class Column:
    """One key per record as a code into `values` (-1: none)."""

    codes: Codes
    values: list[str]

    @classmethod
    def encode(cls, raw: Iterable[str | None], fn: Callable[[str], str | None]) -> Column:
        """Codes of fn(value) for each raw value; fn runs once per distinct value."""
        raw = raw if isinstance(raw, list) else list(raw)
        codes, values = factorize(raw)  # None and "" among the values
        return cls(codes, values).derive(fn)

    @classmethod
    def encode_all(
        cls, raw: list[str | None], fn: Callable[[list[str | None]], list[str | None]]
    ) -> Column:
        """Codes of keys that fn gives for all the distinct raw values at once."""
        codes, values = factorize(raw)
        return cls(codes, values).recode(fn(values))

    def derive(self, fn: Callable[[str], str | None]) -> Column:
        """A column of fn(value) (run once per distinct value)."""
        return self.recode([fn(v) or None if v else None for v in self.values])

    def recode(self, keys: list[str | None]) -> Column:
        """A column of keys[value's code] (None: no key)."""
        codes, values = factorize(keys)
        if None in values:  # None is no key: code -1, and the values after it move down one
            gone = values.index(None)
            codes = np.where(codes == gone, -1, codes - (codes > gone))
            values = values[:gone] + values[gone + 1 :]
        mapping = np.append(codes, np.int32(-1))  # [-1]: records without one
        return Column(mapping[self.codes], values)

    def counts(self) -> np.ndarray:
        present = self.codes[self.codes >= 0]
        return np.bincount(present, minlength=len(self.values))

    @cached_property
    def _objects(self) -> np.ndarray:
        return np.array(self.values, dtype=object)

    def strings(self, codes: Codes) -> list[str]:
        return list(self._objects[codes].tolist())


def factorize(raw: list[Any]) -> tuple[Codes, list[Any]]:
    """(codes, distinct values): raw[i] == values[codes[i]], the values first seen first.

    Groups by each value's hash with one numpy sort rather than a dict of a million strings
    (whose lookups miss the cache: ~3x the time), then checks that equal hashes were equal
    values, as a dict would (falling back to one if two ever collide)."""
    n = len(raw)
    if n < 2:
        return np.zeros(n, dtype=np.int32), list(raw)
    hashes = np.fromiter(map(hash, raw), dtype=np.int64, count=n)
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    firsts = order[new]  # each hash's first record (the sort is stable)
    by_first = np.argsort(firsts, kind="stable")
    rank = np.empty(len(firsts), dtype=np.int32)
    rank[by_first] = np.arange(len(firsts), dtype=np.int32)
    codes = np.empty(n, dtype=np.int32)
    codes[order] = rank[np.cumsum(new) - 1]
    values = _pick(raw, firsts[by_first])
    back = _pick(values, codes)
    if all(map(operator.eq, raw, back)):
        return codes, values
    index = dict(zip(dict.fromkeys(raw), range(n), strict=False))  # a hash collision
    return _lookup(index, raw), list(index)


def _pick(items: list[Any], at: np.ndarray) -> list[Any]:
    """[items[i] for i in at], by one C call."""
    if len(at) < 2:  # itemgetter of one index gives the item, not a tuple
        return [items[i] for i in at.tolist()]
    return list(operator.itemgetter(*at.tolist())(items))


def _lookup(index: Mapping[Any, int], keys: list[Any]) -> Codes:
    """index[k] for each key, as int32 codes: one C call (itemgetter) rather than a map."""
    if len(keys) < 2:  # itemgetter of one key gives the value, not a tuple
        return np.array([index[k] for k in keys], dtype=np.int32)
    return np.array(operator.itemgetter(*keys)(index), dtype=np.int32)


def coalesce(first: Column, second: Column) -> Column:
    """first's key where it has one, else second's, in one value space."""
    index = {v: i for i, v in enumerate(first.values)}
    mapping = np.array([index.setdefault(v, len(index)) for v in second.values] + [-1], np.int32)
    codes = np.where(first.codes >= 0, first.codes, mapping[second.codes])
    return Column(codes.astype(np.int32), list(index))


def _uncached(fn: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """fn without its memo: here each distinct value is normalised once anyway, and a memo
    smaller than a million records' distinct values would only evict (a third of the cost)."""
    return getattr(fn, "__wrapped__", fn)


def _mailbox(raw: str) -> str | None:
    key = raw.strip().lower()
    return canonical_email(key) if "@" in key else None


_SEPARATOR = "\x1e"  # between values joined for one str.lower


def mailboxes(raws: list[str | None]) -> list[str | None]:
    """[_mailbox(raw) for raw in raws] (None for blanks), faster: ASCII addresses are
    lower-cased by one call over their join, and one without a +tag outside Gmail is its own
    mailbox; the others take the full way."""
    texts = [raw or "" for raw in raws]
    joined = _SEPARATOR.join(texts)
    if not joined.isascii() or joined.count(_SEPARATOR) != len(texts) - 1:
        return [_mailbox(text) if text else None for text in texts]
    out: list[str | None] = []
    append = out.append
    for key in joined.lower().split(_SEPARATOR):
        key = key.strip()
        if "@" not in key:
            append(None)
        elif "+" in key or "gmail.com" in key:  # gmail.com, googlemail.com: dots dropped
            append(canonical_email(key))
        else:
            append(key)
    return out


def _host(raw: str) -> str | None:
    """A website's host, cheaply (many spellings of one site share it): what the registrable
    domain is then looked up for, once per host."""
    text = raw.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return text.removeprefix("www.") or None


def _work_domain(domain: str) -> str | None:
    return None if not domain or domain in FREE_MAIL else domain


def _local(local: str) -> str | None:
    return None if len(local) < 3 or local in ROLE_LOCALS else local


def _words(raw: str) -> str | None:
    return " ".join("".join(c if c.isalnum() else " " for c in anyascii(raw).lower()).split())


def _house(raw: str) -> str | None:
    """A street address's house number: the first run of digits of its first line."""
    line = raw.strip().splitlines()[0] if raw.strip() else ""
    digits = ""
    for c in line:
        if c.isdigit():
            digits += c
        elif digits:
            break
    return digits or None


def _street_name(raw: str) -> str | None:
    """A street address's first line as letters only, without spaces ("Kingsmil lStreet" and
    "kingsmill street" are one key): what blocking pairs typos of one street on."""
    line = raw.strip().splitlines()[0] if raw.strip() else ""
    letters = "".join(c for c in anyascii(line).lower() if c.isalpha())
    return letters if len(letters) >= 4 else None


def _postcode(raw: str) -> str | None:
    return "".join(c for c in raw.upper() if c.isalnum()) or None


def _sound(key: str) -> str | None:
    return jellyfish.metaphone(key) or None


@dataclass
class Keys:
    """The match keys of a set of records."""

    n: int
    first: Column
    last: Column
    last_sound: Column
    email: Column  # the mailbox (canonical_email)
    local: Column  # its local part, when personal enough to compare (not info@)
    role: np.ndarray  # bool: the address is a shared mailbox (sales@, info@)
    domain: Column  # the company's registrable domain: its website, else a work e-mail's
    phone: Column  # phone and mobile in one value space: record i's are [i] and [n + i]
    company: Column
    street: Column
    house: Column  # the street's house number
    street_name: Column  # the street's first line, letters only
    city: Column
    postcode: Column
    country: Column
    groups: np.ndarray | None

    @classmethod
    def of(cls, records: Records) -> Keys:
        n = len(records)
        col = records.columns
        email = Column.encode_all(col["email"], mailboxes)
        parts = [email_parts(v) for v in email.values]  # once for the three keys below
        role_codes = np.array([p[0] in ROLE_LOCALS for p in parts] + [False], dtype=bool)
        website = Column.encode(col["domain"], _host).derive(_uncached(normalize_domain))
        phones = Column.encode_all([*col["phone"], *col["mobile"]], phone_keys)
        first = Column.encode(col["first_name"], first_name_key)
        last = Column.encode(col["last_name"], last_name_key)
        # Lines kept (the house number and street name are the first line's).
        lines = Column.encode(col["street"], lambda v: v.strip() or None)
        groups = None if records.groups is None else np.asarray(records.groups, dtype=np.int32)
        return cls(
            n=n,
            first=first,
            last=last,
            last_sound=last.derive(_sound),
            email=email,
            local=email.recode([_local(p[0]) for p in parts]),
            role=role_codes[email.codes],
            domain=coalesce(website, email.recode([_work_domain(p[1]) for p in parts])),
            phone=phones,
            company=Column.encode(col["company"], _uncached(company_core)),
            street=lines.derive(_words),
            house=lines.derive(_house),
            street_name=lines.derive(_street_name),
            city=Column.encode(col["city"], _words),
            postcode=Column.encode(col["postcode"], _postcode),
            country=Column.encode(col["country"], country_key),
            groups=groups,
        )

    def phone_pair(self) -> tuple[Codes, Codes]:
        return self.phone.codes[: self.n], self.phone.codes[self.n :]

    def first_variants(self) -> tuple[Codes, Codes]:
        """(record, variant code) rows: each first name with the names it is a nickname of,
        in the value space of a new column (for blocking only)."""
        index: dict[str, int] = {}
        per_value = [
            [index.setdefault(v, len(index)) for v in sorted(first_name_variants(name))]
            for name in self.first.values
        ]
        sizes = np.array([len(v) for v in per_value] + [0], dtype=np.int64)
        flat = np.array([c for v in per_value for c in v], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(sizes[:-1])))
        codes = self.first.codes
        present = np.flatnonzero(codes >= 0)
        counts = sizes[codes[present]]
        records = np.repeat(present, counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        variants = flat[np.repeat(starts[codes[present]], counts) + offsets]
        return records, variants
