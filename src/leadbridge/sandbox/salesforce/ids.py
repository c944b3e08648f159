"""Salesforce record ids: 3-char key prefix, 15 case-sensitive chars, 3-char checksum suffix."""

from __future__ import annotations

import re

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SHAPE = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-5]{3})?$")


def checksum(id15: str) -> str:
    """Per 5-char chunk, bit i set when char i is upper case; 0-31 mapped to A-Z0-5."""
    out = ""
    for start in range(0, 15, 5):
        bits = sum(1 << i for i, ch in enumerate(id15[start : start + 5]) if "A" <= ch <= "Z")
        out += _SUFFIX[bits]
    return out


def make_id(prefix: str, number: int, pod: str = "5g") -> str:
    digits = ""
    n = number
    while len(digits) < 10:
        digits = _ALPHABET[n % 62] + digits
        n //= 62
    id15 = f"{prefix}{pod}{digits}"
    return id15 + checksum(id15)


def to18(value: str) -> str | None:
    """The 18-char form of a 15- or 18-char id; None when it is not an id at all."""
    if not isinstance(value, str) or not _SHAPE.match(value):
        return None
    if len(value) == 18:
        # Case-insensitive form: restore the case the checksum encodes.
        base, suffix = value[:15], value[15:].upper()
        fixed = []
        for chunk, code in zip(range(0, 15, 5), suffix, strict=True):
            bits = _SUFFIX.index(code)
            part = base[chunk : chunk + 5]
            fixed.append(
                "".join(
                    c.upper() if bits >> i & 1 else c.lower() if c.isalpha() else c
                    for i, c in enumerate(part)
                )
            )
        id15 = "".join(fixed)
        return id15 + checksum(id15)
    return value + checksum(value)
