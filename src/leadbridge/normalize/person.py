"""Person-name match keys: transliterated (anyascii, not the GPL unidecode), lower-cased, letters
only; first names also with their nickname variants (the `nicknames` dataset), so that Bob,
Bobby and Robert agree."""

from __future__ import annotations

import re
from functools import lru_cache

from anyascii import anyascii
from nicknames import NickNamer

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "rev"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"})
_WORDS = re.compile(r"[a-z]+")


def _words(raw: str) -> list[str]:
    return _WORDS.findall(anyascii(raw).lower().replace("'", ""))


@lru_cache(maxsize=1 << 17)
def first_name_key(raw: str | None) -> str | None:
    """The first given name: "Dr. José-Luis" -> "jose"; "J." -> "j"; blank -> None."""
    if not raw:
        return None
    words = [w for w in _words(raw) if w not in _TITLES]
    return words[0] if words else None


@lru_cache(maxsize=1 << 17)
def last_name_key(raw: str | None) -> str | None:
    """The whole family name, letters only: "O'Brien-Smith Jr." -> "obriensmith"."""
    if not raw:
        return None
    words = _words(raw)
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return "".join(words) or None


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=1 << 16)
def first_name_variants(key: str) -> frozenset[str]:
    """A first-name key with the names it is a nickname of: "bob" -> {bob, bobby, robert, …}.
    Two first names are nickname-equal when their variants meet."""
    return frozenset({key, *_nicknamer().canonicals_of(key)})


def nickname_equal(a: str, b: str) -> bool:
    return a == b or not first_name_variants(a).isdisjoint(first_name_variants(b))
