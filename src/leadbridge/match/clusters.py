"""Matched pairs to clusters: the records joined by matches, strongest matches first (Kruskal),
so a cluster's confidence is its weakest joining match."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Cluster:
    """Records judged one entity: `members` are record indices; `edges` are the matches that
    join them (pair index into the scored pairs), strongest first; `confidence` is the weakest
    of them."""

    members: tuple[int, ...]
    edges: tuple[int, ...]
    confidence: float


def components(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The connected component of each pair (a[i], b[i]), as the least record in it: labels
    propagated along the pairs with pointer jumping (numpy; duplicate groups are shallow)."""
    nodes, inverse = np.unique(np.concatenate((a, b)), return_inverse=True)
    x, y = inverse[: len(a)], inverse[len(a) :]
    label = np.arange(len(nodes))
    while True:
        low = np.minimum(label[x], label[y])
        before = label.copy()
        np.minimum.at(label, x, low)
        np.minimum.at(label, y, low)
        label = label[label]
        if np.array_equal(label, before):
            break
    return np.asarray(nodes[label[x]])


def cluster(
    a: np.ndarray, b: np.ndarray, probability: np.ndarray, ids: np.ndarray | None = None
) -> list[Cluster]:
    """Clusters of the pairs (a[i], b[i]) with their match probabilities, largest first; a
    cluster's edges are `ids[i]` of its pairs (default: i). Most clusters are one pair: those are
    read off the components; only larger ones are joined strongest match first (Kruskal), in
    Python."""
    a, b = np.asarray(a), np.asarray(b)
    if not len(a):
        return []
    edge_ids = (np.arange(len(a)) if ids is None else np.asarray(ids)).tolist()
    component = components(a, b)
    _, index, counts = np.unique(component, return_inverse=True, return_counts=True)
    single = counts[index] == 1  # the component's only pair
    out = [
        Cluster((x, y) if x < y else (y, x), (edge_ids[i],), p)
        for i, x, y, p in zip(
            np.flatnonzero(single).tolist(),
            a[single].tolist(),
            b[single].tolist(),
            probability[single].tolist(),
            strict=True,
        )
    ]
    rest = np.flatnonzero(~single).tolist()
    if len(rest):
        out += [
            Cluster(c.members, tuple(edge_ids[rest[e]] for e in c.edges), c.confidence)
            for c in _kruskal(a[rest], b[rest], probability[rest])
        ]
    out.sort(key=lambda c: (-len(c.members), -c.confidence, c.members[0]))
    return out


def _kruskal(a: np.ndarray, b: np.ndarray, probability: np.ndarray) -> list[Cluster]:
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    joined: list[int] = []
    for i in np.argsort(-probability, kind="stable").tolist():
        ra, rb = root(int(a[i])), root(int(b[i]))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            joined.append(i)
    members: dict[int, list[int]] = {}
    for x in parent:
        members.setdefault(root(x), []).append(x)
    edges: dict[int, list[int]] = {}
    for i in joined:
        edges.setdefault(root(int(a[i])), []).append(i)
    out = [
        Cluster(
            tuple(sorted(group)),
            tuple(edges[r]),
            float(min(probability[i] for i in edges[r])),
        )
        for r, group in members.items()
    ]
    return out
