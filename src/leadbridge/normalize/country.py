"""Country match key: the ways a CRM user types one country ("USA", "United States", "U.S.")
as one key. The spellings of the countries CRMs see most, by ISO 3166 alpha-2 code; any other
country is keyed by its words (case, accents and punctuation aside)."""

from __future__ import annotations

from anyascii import anyascii

# code: its spellings, comma-separated (each as words: lower case, no punctuation).
_SPELLINGS = {
    "us": "usa, united states, united states of america, america, u s a, u s",
    "gb": "gbr, uk, u k, united kingdom, great britain, britain, england, scotland, wales, "
    "northern ireland",
    "ca": "can, canada",
    "au": "aus, australia",
    "nz": "nzl, new zealand",
    "ie": "irl, ireland, republic of ireland",
    "de": "deu, germany, deutschland",
    "fr": "fra, france",
    "es": "esp, spain, espana",
    "it": "ita, italy, italia",
    "nl": "nld, netherlands, the netherlands, holland, nederland",
    "be": "bel, belgium, belgique, belgie",
    "ch": "che, switzerland, schweiz, suisse",
    "at": "aut, austria, osterreich",
    "se": "swe, sweden, sverige",
    "no": "nor, norway, norge",
    "dk": "dnk, denmark, danmark",
    "fi": "fin, finland, suomi",
    "pl": "pol, poland, polska",
    "pt": "prt, portugal",
    "mx": "mex, mexico",
    "br": "bra, brazil, brasil",
    "in": "ind, india",
    "jp": "jpn, japan",
    "cn": "chn, china",
    "sg": "sgp, singapore",
    "il": "isr, israel",
    "ae": "are, uae, united arab emirates",
    "za": "zaf, south africa",
}
_LOOKUP = {
    spelling.strip(): code
    for code, spellings in _SPELLINGS.items()
    for spelling in [code, *spellings.split(",")]
}


def country_key(raw: str | None) -> str | None:
    """ "United States", "USA", "U.S.A." -> "us"; "Deutschland" -> "de"; "Ruritania" ->
    "ruritania"; blank -> None."""
    if not raw:
        return None
    words = " ".join("".join(c if c.isalnum() else " " for c in anyascii(raw).lower()).split())
    return _LOOKUP.get(words, words) or None
