"""Registrable-domain normalisation (offline: tldextract with its bundled suffix list)."""

from __future__ import annotations

import re
from functools import lru_cache

import tldextract

# Never fetch the public suffix list at run time; the bundled snapshot is the source of truth.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@lru_cache(maxsize=65536)
def normalize_domain(raw: str | None) -> str | None:
    """The registrable domain of a domain, host, URL or e-mail address; None when there is none.

    "https://www.Example.co.uk/about" -> "example.co.uk"; "shop.acme.io" -> "acme.io";
    "bob@acme.com" -> "acme.com"; "localhost", "acme", "" -> None.
    """
    if raw is None:
        return None
    text = raw.strip().lower()
    if not text:
        return None
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    if not text or " " in text:
        return None
    ext = _EXTRACT(text)
    if not ext.domain or not ext.suffix:
        return None
    if not _LABEL.match(ext.domain):
        return None
    return f"{ext.domain}.{ext.suffix}"


def website_for(domain: str | None, website: str | None = None) -> str | None:
    """The website to push: the lead's own when it has one, else https://<domain>."""
    if website and website.strip():
        site = website.strip()
        return site if _SCHEME.match(site) else f"https://{site}"
    return f"https://{domain}" if domain else None
