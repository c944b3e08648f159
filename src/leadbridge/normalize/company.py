"""Company-name match key: case, punctuation and legal suffixes do not tell companies apart."""

from __future__ import annotations

import re
import unicodedata

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
