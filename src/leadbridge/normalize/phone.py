"""Phone numbers as E.164 (`+14158675309`), the key two spellings of one number share.

phonenumbers (the lite build: no geocoder or carrier data) decides; it costs ~30 µs a number, so
results are memoised by the raw text, and the plainest North American spellings take a fast
path that phonenumbers agrees with (a property test holds the two together): ten digits, or
eleven with the leading 1, whose area code and exchange start with 2-9.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import phonenumbers

_NANP = frozenset({"US", "CA"})
_FORMATTING = str.maketrans("", "", " ()-./\u00a0")
_SEPARATOR = "\x1e"  # between values joined for one translate (a value holding it: one by one)


@lru_cache(maxsize=1 << 18)
def phone_key(raw: str | None, region: str = "US") -> str | None:
    """The E.164 form of a valid number, else None ("867-5309", "n/a", "" have none)."""
    if not raw:
        return None
    text = raw.strip()
    fast = _nanp_fast(text) if region in _NANP else None
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _nanp_fast(text: str) -> str | None:
    """A plainly written North American number, or None to let phonenumbers decide."""
    digits = text.translate(_FORMATTING)
    if digits.startswith("+1"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or not digits.isdigit() or not digits.isascii():
        return None
    if digits[0] in "01" or digits[3] in "01" or digits[1:3] == "11" or digits[4:6] == "11":
        return None  # not a possible area code or exchange (N11 are service codes)
    if not _area_valid(digits[:3]):
        return None
    return "+1" + digits


@lru_cache(maxsize=1024)
def _area_valid(area: str) -> bool:
    """Whether the area code is a US or Canadian one phonenumbers knows (checked once per
    code on a sample number; other NANP countries have their own exchange rules)."""
    sample = phonenumbers.parse(f"+1{area}2340123")
    return phonenumbers.is_valid_number(sample) and (
        phonenumbers.region_code_for_number(sample) in _NANP
    )


def phone_keys(raws: Sequence[str | None], region: str = "US") -> list[str | None]:
    """[phone_key(raw, region) for raw in raws], faster: the formatting of all of them is
    dropped by one str.translate over their join, and the plain North American numbers among
    them (the fast path's) are judged inline; every other value goes to phone_key."""
    texts = [raw or "" for raw in raws]
    joined = _SEPARATOR.join(texts)
    if region not in _NANP or joined.count(_SEPARATOR) != len(texts) - 1:
        return [phone_key(raw, region) for raw in raws]  # (a separator inside a value)
    areas: dict[str, bool] = {}
    keys: list[str | None] = []
    append = keys.append
    for text, digits in zip(texts, joined.translate(_FORMATTING).split(_SEPARATOR), strict=True):
        if digits.startswith("+1"):
            digits = digits[2:]
        elif len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if (
            len(digits) == 10
            and digits.isascii()
            and digits.isdigit()
            and digits[0] > "1"
            and digits[3] > "1"
            and digits[1:3] != "11"
            and digits[4:6] != "11"
        ):
            area = digits[:3]
            known = areas.get(area)
            if known is None:
                known = areas[area] = _area_valid(area)
            if known:
                append("+1" + digits)
                continue
        append(phone_key(text, region) if text else None)
    return keys
