"""Scoring candidate pairs (Fellegi–Sunter): each field compares at a level (exact, nickname,
similar, different, missing), each level weighs log2(m/u) — how much likelier that level is for
two records of one entity (m) than for two records of different entities (u) — and the weights
add up, with the prior odds, to the probability that the pair is one entity.

An exact agreement on a common value says less than on a rare one: its u is the share of the
other records holding that value (a company's switchboard number, "John", a big employer's
domain), never below the field's floor. The m and u values are set by hand from what CRM data
looks like and checked on two benchmarks (`bench/bench_audit.py`): a generated CRM with known
duplicates and FEBRL3. Weights stay readable, so every match can say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import distance, fuzz, process

from leadbridge.match.keys import Codes, Column, Keys
from leadbridge.match.records import Kind
from leadbridge.normalize.person import nickname_equal

MISSING, EXACT, NICKNAME, SIMILAR, CLOSE, LOCAL, DIFFERENT = range(7)
LEVEL_NAMES = ("missing", "exact", "nickname", "similar", "close", "same local part", "different")

# The prior: log2 odds that two records are one entity before any evidence. A data set has
# about DUPLICATE_RATE duplicates per record (one in ten: a common figure for data never
# deduplicated), so of its n²/2 pairs a share 2·rate/n are one entity: the larger the set, the
# less likely any one pair is a duplicate to begin with (about -19 bits at 100,000 records).
DUPLICATE_RATE = 0.1


def prior(n: int) -> float:
    return float(np.log2(2 * DUPLICATE_RATE / max(n, MIN_POPULATION)))


@dataclass(frozen=True)
class FieldModel:
    """m per level; u per non-exact level (an exact level's u comes from the data, floored)."""

    m: dict[int, float]
    u: dict[int, float]
    floor: float  # the least u of an exact agreement

    def weight(self, level: int) -> float:
        return float(np.log2(self.m[level] / self.u[level]))


MODELS: dict[str, FieldModel] = {
    "first_name": FieldModel(
        {EXACT: 0.80, NICKNAME: 0.06, SIMILAR: 0.08, CLOSE: 0.03, DIFFERENT: 0.01},
        {NICKNAME: 0.003, SIMILAR: 0.004, CLOSE: 0.01, DIFFERENT: 0.98},
        floor=1e-4,
    ),
    "last_name": FieldModel(
        {EXACT: 0.85, SIMILAR: 0.10, CLOSE: 0.03, DIFFERENT: 0.01},
        {SIMILAR: 0.002, CLOSE: 0.006, DIFFERENT: 0.99},
        floor=1e-5,
    ),
    "e-mail": FieldModel(
        {EXACT: 0.45, LOCAL: 0.10, SIMILAR: 0.08, DIFFERENT: 0.37},
        {LOCAL: 1e-3, SIMILAR: 2e-3, DIFFERENT: 1.0},
        floor=1e-6,
    ),
    "phone": FieldModel({EXACT: 0.55, DIFFERENT: 0.25}, {DIFFERENT: 1.0}, floor=1e-6),
    "domain": FieldModel({EXACT: 0.75, DIFFERENT: 0.05}, {DIFFERENT: 1.0}, floor=1e-6),
    "company": FieldModel(
        {EXACT: 0.60, SIMILAR: 0.30, DIFFERENT: 0.05}, {SIMILAR: 1e-4, DIFFERENT: 1.0}, floor=1e-6
    ),
    # Similar: the same house number on a street spelt alike (or one without the number);
    # close: the street alike, another number (a typo, or a neighbour).
    "street": FieldModel(
        {EXACT: 0.60, SIMILAR: 0.25, CLOSE: 0.08, DIFFERENT: 0.07},
        {SIMILAR: 1e-4, CLOSE: 2e-3, DIFFERENT: 1.0},
        floor=1e-6,
    ),
    "city": FieldModel(
        {EXACT: 0.80, SIMILAR: 0.10, DIFFERENT: 0.10}, {SIMILAR: 0.005, DIFFERENT: 1.0}, floor=1e-4
    ),
    "postcode": FieldModel(
        {EXACT: 0.80, CLOSE: 0.10, DIFFERENT: 0.10}, {CLOSE: 0.02, DIFFERENT: 1.0}, floor=1e-4
    ),
    # One person's records rarely name two countries; two people's often do. The same country
    # adds nothing (its floor is its m: a same town or postcode already says it); another one
    # also takes the address's agreement away (ADDRESS).
    "country": FieldModel({EXACT: 0.97, DIFFERENT: 0.03}, {DIFFERENT: 0.5}, floor=0.97),
}
PERSON_FIELDS = tuple(MODELS)
COMPANY_FIELDS = ("company", "domain", "phone", "street", "city", "postcode", "country")
# Value shares are estimated from the records at hand, as if there were at least this many: a
# number three records of a ten-record pool share is not a third of all numbers.
MIN_POPULATION = 10_000
ROLE_MAILBOX_WEIGHT = 3.0  # the same info@ address: weak, two people may share it
# E-mail, company domain, company name and phone tell much the same thing twice (colleagues
# share a domain, a company and often a switchboard number): the strongest agreement of these
# counts in full, the others at this share, and only the strongest disagreement counts.
CORRELATED = ("e-mail", "domain", "company", "phone")
CORRELATED_SHARE = 0.25
MIN_ANCHORED = 200  # pairs sharing an identifier, to estimate how often names change
MAX_NAME_CHANGE = 0.3
ANCHORS = ("e-mail", "phone", "domain", "company", "street", "city", "postcode")
# In another country a street, town or postcode of the same name is another place: for a pair
# whose countries differ these agree on nothing (no weight, no anchor, no shared home).
ADDRESS = ("street", "city", "postcode")


@dataclass
class Scored:
    """Pairs (a[i], b[i]) with their field levels, weights, total and probability."""

    a: Codes
    b: Codes
    levels: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    similarity: dict[str, np.ndarray]
    probability: np.ndarray

    def __len__(self) -> int:
        return len(self.a)


def _exact_weights(column: Column, codes: Codes, model: FieldModel, n: int) -> np.ndarray:
    """log2(m/u) of exact agreements on `codes`, u the share of other records with the value."""
    counts = np.concatenate((column.counts(), [0]))  # [0] for records without a value
    others = np.maximum(counts[codes] - 2, 0) / max(n, MIN_POPULATION)
    return np.log2(model.m[EXACT] / np.maximum(others, model.floor))


def _similarity(column: Column, a: Codes, b: Codes, scorer: Any) -> np.ndarray:
    """scorer(values[a[i]], values[b[i]]) for each i, run once per distinct pair of values
    (many pairs repeat one: two spellings of a town, a nickname)."""
    if not len(a):
        return np.empty(0)
    width = np.int64(len(column.values))
    distinct, back = _distinct(a.astype(np.int64) * width + b)
    x, y = distinct // width, distinct % width
    out = process.cpdist(column.strings(x), column.strings(y), scorer=scorer, workers=2)
    return np.asarray(out, dtype=np.float64)[back]


def _compare(
    column: Column,
    a: Codes,
    b: Codes,
    *,
    similar: float,
    close: float | None = None,
    scorer: Any = distance.JaroWinkler.normalized_similarity,
) -> tuple[np.ndarray, np.ndarray]:
    """Levels (exact / similar / close / different / missing) and the similarity of differing
    values."""
    ca, cb = column.codes[a], column.codes[b]
    level = np.full(len(a), MISSING, dtype=np.int8)
    both = (ca >= 0) & (cb >= 0)
    level[both & (ca == cb)] = EXACT
    differ = np.flatnonzero(both & (ca != cb))
    sim = np.ones(len(a))
    sim[~both] = 0.0
    values = _similarity(column, ca[differ], cb[differ], scorer)
    sim[differ] = values
    tiers = np.full(len(differ), DIFFERENT, dtype=np.int8)
    if close is not None:
        tiers[values >= close] = CLOSE
    tiers[values >= similar] = SIMILAR
    level[differ] = tiers
    return level, sim


def _weights(name: str, level: np.ndarray, exact: np.ndarray) -> np.ndarray:
    model = MODELS[name]
    table = np.zeros(len(LEVEL_NAMES))
    for lv in model.u:
        table[lv] = model.weight(lv)
    out = table[level]
    is_exact = level == EXACT
    out[is_exact] = exact[is_exact]
    return out


def score(keys: Keys, a: Codes, b: Codes, kind: Kind) -> Scored:
    levels: dict[str, np.ndarray] = {}
    weights: dict[str, np.ndarray] = {}
    similarity: dict[str, np.ndarray] = {}
    n = keys.n

    def exact_of(name: str, column: Column) -> np.ndarray:
        codes = np.maximum(column.codes[a], 0)
        return _exact_weights(column, codes, MODELS[name], n)

    if kind == "person":
        level, sim = _compare(keys.first, a, b, similar=0.92, close=0.85)
        _first_names(keys, a, b, level)
        levels["first_name"], similarity["first_name"] = level, sim
        level, sim = _compare(keys.last, a, b, similar=0.92, close=0.85)
        levels["last_name"], similarity["last_name"] = level, sim
        _swapped_names(keys, a, b, levels["first_name"], levels["last_name"])
        levels["e-mail"] = _emails(keys, a, b)
    levels["phone"] = _phones(keys, a, b)
    levels["domain"] = _compare(keys.domain, a, b, similar=2.0)[0]
    level, sim = _compare(keys.company, a, b, similar=90.0, scorer=fuzz.token_sort_ratio)
    levels["company"], similarity["company"] = level, sim / 100.0
    levels["street"], similarity["street"] = _streets(keys, a, b)
    levels["city"], similarity["city"] = _compare(keys.city, a, b, similar=0.9)
    levels["postcode"] = _compare(keys.postcode, a, b, similar=2.0, close=0.85)[0]
    levels["country"] = _compare(keys.country, a, b, similar=2.0)[0]

    columns = {
        "first_name": keys.first,
        "last_name": keys.last,
        "e-mail": keys.email,
        "domain": keys.domain,
        "company": keys.company,
        "street": keys.street,
        "city": keys.city,
        "postcode": keys.postcode,
        "country": keys.country,
    }
    for name, level in levels.items():
        if name == "phone":
            exact = _phone_exact(keys, a, b, level)
        else:
            exact = exact_of(name, columns[name])
        weights[name] = _weights(name, level, exact)
    abroad = levels["country"] == DIFFERENT
    for name in ADDRESS:
        weights[name][abroad & (weights[name] > 0)] = 0.0
    if kind == "person":
        _name_disagreement(levels, weights, keys.role[a], abroad)
    if "e-mail" in weights:
        role = (levels["e-mail"] == EXACT) & keys.role[a]
        weights["e-mail"][role] = np.minimum(weights["e-mail"][role], ROLE_MAILBOX_WEIGHT)
    if kind == "person":
        # An e-mail's local part mostly repeats the names (john.smith@): it tells something
        # only where the names do not already agree.
        named = (levels["first_name"] == EXACT) & (levels["last_name"] == EXACT)
        local = named & np.isin(levels["e-mail"], (LOCAL, SIMILAR))
        weights["e-mail"][local] = 0.0
    _discount_correlated(weights)
    total = prior(n) + sum(weights.values())
    probability = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    if kind == "person":
        # Two different people can share everything but their name (colleagues on one
        # switchboard, a couple at one address): a name that disagrees outright (not a typo,
        # nickname or initial) blocks a match, unless the records share their mailbox (a
        # name changed, a typo beyond recognition).
        # The same street address counts as the person's own only where no shared employer
        # explains it (colleagues share their office's): then the weights decide.
        first, last = levels["first_name"], levels["last_name"]
        unlike = (first == DIFFERENT) | (last == DIFFERENT)
        employer = np.zeros(len(a), dtype=bool)
        for name in ("company", "domain"):
            employer |= np.isin(levels[name], (EXACT, SIMILAR))
        home = np.isin(levels["street"], (EXACT, SIMILAR, CLOSE)) & ~employer & ~abroad
        probability[unlike & (levels["e-mail"] != EXACT) & ~home] = 0.0
        # And a name alone is never enough: some other field has to agree.
        anchored = np.zeros(len(a), dtype=bool)
        for name in ANCHORS:
            agree = np.isin(levels[name], (EXACT, SIMILAR, CLOSE, LOCAL))
            anchored |= agree & ~abroad if name in ADDRESS else agree
        probability[~anchored] = 0.0
    return Scored(a, b, levels, weights, similarity, probability)


def _name_disagreement(
    levels: dict[str, np.ndarray],
    weights: dict[str, np.ndarray],
    role: np.ndarray,
    abroad: np.ndarray,
) -> None:
    """m of a name that disagrees outright, estimated from the data rather than assumed: how
    often the names differ among pairs that share an identifier telling nothing of the names
    (one personal mailbox, or one full street address with its town or postcode and no shared
    employer) — nearly all one person. Data entered by hand or merged from lists renames far
    more often than a CRM whose people type their own e-mails. Taken only from enough pairs,
    and kept within [the model's m, MAX_NAME_CHANGE]."""
    employer = np.isin(levels["company"], (EXACT, SIMILAR)) | np.isin(
        levels["domain"], (EXACT, SIMILAR)
    )
    address = (
        (levels["street"] == EXACT)
        & ((levels["postcode"] == EXACT) | (levels["city"] == EXACT))
        & ~abroad
    )
    anchored = ((levels["e-mail"] == EXACT) & ~role) | (address & ~employer)
    if anchored.sum() < MIN_ANCHORED:
        return
    for name in ("first_name", "last_name"):
        model = MODELS[name]
        share = float(np.mean(levels[name][anchored] == DIFFERENT))
        m = min(max(share, model.m[DIFFERENT]), MAX_NAME_CHANGE)
        differ = levels[name] == DIFFERENT
        weights[name][differ] = np.log2(m / model.u[DIFFERENT])


def _discount_correlated(weights: dict[str, np.ndarray]) -> None:
    present = [name for name in CORRELATED if name in weights]
    stacked = np.stack([weights[name] for name in present])
    strongest = stacked.argmax(axis=0)
    weakest = stacked.argmin(axis=0)
    for row, name in enumerate(present):
        w = weights[name]
        positive = (w > 0) & (strongest != row)
        w[positive] *= CORRELATED_SHARE
        w[(w < 0) & (weakest != row)] = 0.0


def _first_names(keys: Keys, a: Codes, b: Codes, level: np.ndarray) -> None:
    """Nicknames (Bob ~ Robert) and initials (J. ~ John) among first names that differ."""
    ca, cb = keys.first.codes[a], keys.first.codes[b]
    open_ = np.flatnonzero((level == DIFFERENT) | (level == CLOSE))
    if not len(open_):
        return
    # Each distinct (name, name) pair judged once, its verdict spread back to the pairs.
    width = np.int64(len(keys.first.values))
    pair_keys = ca[open_].astype(np.int64) * width + cb[open_]
    distinct, back = _distinct(pair_keys)
    values = keys.first.values
    verdicts = np.full(len(distinct), -1, dtype=np.int8)
    firsts, seconds = (distinct // width).tolist(), (distinct % width).tolist()
    for i, (x, y) in enumerate(zip(firsts, seconds, strict=True)):
        vx, vy = values[x], values[y]
        if nickname_equal(vx, vy):
            verdicts[i] = NICKNAME
        elif (len(vx) == 1 or len(vy) == 1) and vx[0] == vy[0]:
            verdicts[i] = CLOSE
    found = verdicts[back]
    hit = found >= 0
    level[open_[hit]] = found[hit]


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values and, for each value, its index among them (np.unique's
    return_inverse, by one sort)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.concatenate(([True], ordered[1:] != ordered[:-1])) if len(values) else ordered
    back = np.empty(len(values), dtype=np.int64)
    back[order] = np.cumsum(new) - 1
    return ordered[new], back


def _streets(keys: Keys, a: Codes, b: Codes) -> tuple[np.ndarray, np.ndarray]:
    """Street addresses by their parts: the first line's letters (spacing typos do not count)
    and the house number."""
    level, sim = _compare(keys.street, a, b, similar=101.0, scorer=fuzz.token_sort_ratio)
    open_ = np.flatnonzero(level == DIFFERENT)
    na, nb = keys.street_name.codes[a[open_]], keys.street_name.codes[b[open_]]
    named = (na >= 0) & (nb >= 0)
    alike = np.zeros(len(open_))
    alike[named & (na == nb)] = 1.0
    rest = np.flatnonzero(named & (na != nb))
    alike[rest] = _similarity(
        keys.street_name, na[rest], nb[rest], distance.Levenshtein.normalized_similarity
    )
    ha, hb = keys.house.codes[a[open_]], keys.house.codes[b[open_]]
    same_house = (ha == hb) | (ha < 0) | (hb < 0)
    street_alike = alike >= 0.8
    tiers = np.full(len(open_), DIFFERENT, dtype=np.int8)
    tiers[street_alike] = CLOSE
    tiers[street_alike & same_house] = SIMILAR
    level[open_] = tiers
    sim[open_] = np.maximum(sim[open_] / 100.0, alike)
    return level, sim


def _swapped_names(keys: Keys, a: Codes, b: Codes, first: np.ndarray, last: np.ndarray) -> None:
    """A first name entered as the last and the other way round (Rees Bryce ~ Bryce Rees):
    both names agree crosswise, each counts as similar."""
    fa, la = keys.first.codes[a], keys.last.codes[a]
    fb, lb = keys.first.codes[b], keys.last.codes[b]
    open_ = np.flatnonzero(
        ((first == DIFFERENT) | (last == DIFFERENT)) & (fa >= 0) & (la >= 0) & (fb >= 0) & (lb >= 0)
    )
    if not len(open_):
        return
    scorer = distance.JaroWinkler.normalized_similarity
    one = process.cpdist(
        keys.first.strings(fa[open_]), keys.last.strings(lb[open_]), scorer=scorer, workers=2
    )
    two = process.cpdist(
        keys.last.strings(la[open_]), keys.first.strings(fb[open_]), scorer=scorer, workers=2
    )
    swapped = open_[(np.asarray(one) >= 0.92) & (np.asarray(two) >= 0.92)]
    first[swapped] = SIMILAR
    last[swapped] = SIMILAR


def _emails(keys: Keys, a: Codes, b: Codes) -> np.ndarray:
    ea, eb = keys.email.codes[a], keys.email.codes[b]
    level = np.full(len(a), MISSING, dtype=np.int8)
    both = (ea >= 0) & (eb >= 0)
    level[both] = DIFFERENT
    la, lb = keys.local.codes[a], keys.local.codes[b]
    level[both & (la >= 0) & (la == lb)] = LOCAL
    level[both & (ea == eb)] = EXACT
    # A typo in the local part (pfarly@ ~ pfarley@ at one domain).
    open_ = np.flatnonzero((level == DIFFERENT) & (la >= 0) & (lb >= 0))
    if len(open_):
        sim = _similarity(
            keys.local, la[open_], lb[open_], distance.JaroWinkler.normalized_similarity
        )
        level[open_[sim >= 0.9]] = SIMILAR
    return level


def _phones(keys: Keys, a: Codes, b: Codes) -> np.ndarray:
    one, two = keys.phone_pair()
    level = np.full(len(a), MISSING, dtype=np.int8)
    has_a = (one[a] >= 0) | (two[a] >= 0)
    has_b = (one[b] >= 0) | (two[b] >= 0)
    level[has_a & has_b] = DIFFERENT
    level[_shared_phone(keys, a, b) >= 0] = EXACT
    return level


def _shared_phone(keys: Keys, a: Codes, b: Codes) -> np.ndarray:
    """The code of a number both records have (-1: none)."""
    one, two = keys.phone_pair()
    shared = np.full(len(a), -1, dtype=np.int64)
    for x in (one[a], two[a]):
        for y in (one[b], two[b]):
            hit = (x >= 0) & (x == y) & (shared < 0)
            shared[hit] = x[hit]
    return shared


def _phone_exact(keys: Keys, a: Codes, b: Codes, level: np.ndarray) -> np.ndarray:
    codes = np.maximum(_shared_phone(keys, a, b), 0)
    return _exact_weights(keys.phone, codes, MODELS["phone"], keys.n)
