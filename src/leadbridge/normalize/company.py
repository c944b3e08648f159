"""Company-name match key: case, punctuation and legal suffixes do not tell companies apart."""

from __future__ import annotations

import functools
import re
import unicodedata

from anyascii import anyascii

LEGAL = {
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
    "plc", "gmbh", "ag", "sa", "sas", "bv", "nv", "srl", "oy", "ab", "pty", "lp", "llp",
}  # fmt: skip


def company_name_key(name: str | None) -> str | None:
    if not name:
        return None
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", " ", text.replace("&", " and ")).split()
    while len(words) > 1 and words[-1] in LEGAL:
        words.pop()
    return " ".join(words) or None


# The fuzzy matcher's company key: cleanco's vocabulary of legal forms (every country's), our
# own stripping. cleanco.basename costs ~35 µs a name and needs two passes ("Acme Co., Ltd."),
# keeps a leading "The" and breaks on parentheses ("ACME Corp. (USA)" -> "ACME Corp. (USA");
# this strips trailing legal forms to a fixed point in ~3 µs.
_TOKENS = re.compile(r"[a-z0-9]+|&")
_PARENS = re.compile(r"\([^)]*\)?|\[[^\]]*\]?")


def _tokens(text: str) -> list[str]:
    return ["and" if t == "&" else t for t in _TOKENS.findall(text.replace(".", ""))]


@functools.lru_cache(maxsize=1)
def _legal_forms() -> frozenset[tuple[str, ...]]:
    from cleanco import prepare_default_terms

    return frozenset(tuple(_tokens(" ".join(words))) for _, words in prepare_default_terms())


@functools.lru_cache(maxsize=1 << 17)
def company_core(name: str | None) -> str | None:
    """The company name without legal forms, articles, bracketed notes and punctuation:
    "The Acme Co., Ltd. (USA)" -> "acme"; "Ørsted A/S" -> "orsted"; "Smith & Sons" ->
    "smith and sons"."""
    if not name:
        return None
    words = _tokens(_PARENS.sub(" ", anyascii(name).lower()))
    forms = _legal_forms()
    changed = True
    while changed and len(words) > 1:
        changed = False
        for size in (4, 3, 2, 1):
            if len(words) > size and tuple(words[-size:]) in forms:
                del words[-size:]
                changed = True
                break
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words) or None
