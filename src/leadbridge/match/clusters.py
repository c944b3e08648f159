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


def cluster(a: np.ndarray, b: np.ndarray, probability: np.ndarray) -> list[Cluster]:
    """Clusters of the pairs (a[i], b[i]) with their match probabilities, largest first."""
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
    out.sort(key=lambda c: (-len(c.members), -c.confidence, c.members[0]))
    return out
