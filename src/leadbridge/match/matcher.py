"""The matcher: blocking, scoring and clustering over one set of records (the duplicate audit),
and the same over one candidate and a pool (a create held as a possible duplicate)."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leadbridge.match.blocking import candidate_pairs
from leadbridge.match.clusters import Cluster, cluster
from leadbridge.match.keys import Keys
from leadbridge.match.records import FIELDS, Agreement, Entity, Kind, Match, Records
from leadbridge.match.scoring import (
    EXACT,
    LEVEL_NAMES,
    MISSING,
    NICKNAME,
    Scored,
    score,
)

DEFAULT_THRESHOLD = 0.99
# Which record field each scored field shows in evidence.
SHOWN = {
    "first_name": ("first name", "first_name"),
    "last_name": ("last name", "last_name"),
    "e-mail": ("e-mail", "email"),
    "phone": ("phone", "phone"),
    "domain": ("company domain", "domain"),
    "company": ("company", "company"),
    "street": ("street address", "street"),
    "city": ("city", "city"),
    "postcode": ("postcode", "postcode"),
    "country": ("country", "country"),
}


@dataclass
class Found:
    """An audit's result: the clusters over `records`, and the scored pairs they index."""

    records: Records
    scored: Scored
    matched: np.ndarray  # indices of pairs at or above the threshold
    clusters: list[Cluster]
    candidates: int  # pairs blocking proposed

    def evidence(self, pair: int) -> tuple[Agreement, ...]:
        return evidence(self.records, self.scored, pair)


def find_duplicates(records: Records, threshold: float = DEFAULT_THRESHOLD) -> Found:
    """Clusters of records judged one entity at `threshold` (a probability); with groups, only
    pairs across groups are considered."""
    # A million records make millions of small objects (keys, e-mail parts, clusters), none in
    # a cycle: the cyclic collector would walk the growing heap again and again meanwhile
    # (clustering took 4x as long with it).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _find_duplicates(records, threshold)
    finally:
        if enabled:
            gc.enable()


def _find_duplicates(records: Records, threshold: float) -> Found:
    keys = Keys.of(records)
    a, b = candidate_pairs(keys, records.kind)
    scored = score(keys, a, b, records.kind)
    matched = np.flatnonzero(scored.probability >= threshold)
    # Cluster edges index the scored pairs.
    clusters = cluster(a[matched], b[matched], scored.probability[matched], matched)
    return Found(records, scored, matched, clusters, len(a))


def possible_duplicates(
    candidate: Entity,
    pool: Sequence[Entity] | Records,
    threshold: float = DEFAULT_THRESHOLD,
    kind: Kind = "person",
) -> list[Match]:
    """The pool's records the candidate is judged to be (probability >= threshold), the most
    likely first, each with its evidence. Pure: reads nothing but its arguments."""
    if isinstance(pool, Records):
        kind = pool.kind
        columns = {name: [getattr(candidate, name), *pool.columns[name]] for name in FIELDS}
        refs = [candidate.ref, *pool.refs]
    else:
        items = [candidate, *pool]
        columns = {name: [getattr(e, name) for e in items] for name in FIELDS}
        refs = [e.ref for e in items]
    records = Records(kind, refs, columns, [0] + [1] * (len(refs) - 1))
    keys = Keys.of(records)
    # One candidate against a pool: every group is small on the candidate's side, so no key
    # is left out for its size.
    a, b = candidate_pairs(keys, kind, scale=float(len(refs)))
    scored = score(keys, a, b, kind)
    out = []
    for i in np.flatnonzero(scored.probability >= threshold).tolist():
        other = int(b[i]) if int(a[i]) == 0 else int(a[i])
        out.append(
            Match(
                ref=refs[other],
                index=other - 1,
                confidence=float(scored.probability[i]),
                evidence=evidence(records, scored, i),
            )
        )
    out.sort(key=lambda m: (-m.confidence, m.index))
    return out


def evidence(records: Records, scored: Scored, pair: int) -> tuple[Agreement, ...]:
    """How each field compared in one scored pair, the strongest evidence first."""
    a, b = int(scored.a[pair]), int(scored.b[pair])
    out = []
    for name, levels in scored.levels.items():
        level = int(levels[pair])
        label, field = SHOWN[name]
        weight = round(float(scored.weights[name][pair]), 1)
        if level == MISSING:
            out.append(Agreement(label, "missing", 0.0))
            continue
        va = _shown(records, field, a)
        vb = _shown(records, field, b)
        text = LEVEL_NAMES[level]
        if level == EXACT:
            detail = va
        elif name in scored.similarity and level != NICKNAME:
            detail = f"{va} ~ {vb}, {scored.similarity[name][pair]:.2f}"
        else:
            detail = f"{va} ~ {vb}"
        out.append(Agreement(label, "same" if level == EXACT else text, weight, detail))
    out.sort(key=lambda g: (g.level == "missing", -g.weight))
    return tuple(out)


def _shown(records: Records, field: str, i: int) -> str:
    value = records.columns[field][i]
    if field == "phone" and records.columns["mobile"][i]:
        value = " / ".join(v for v in (value, records.columns["mobile"][i]) if v)
    return (value or "").strip()
