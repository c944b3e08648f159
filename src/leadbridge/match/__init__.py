"""Duplicate detection: match keys, blocking, scoring with evidence, clustering.

`find_duplicates(records)` is the duplicate audit's matcher; `possible_duplicates(candidate,
pool, threshold)` the same judgement for one record against others (a create that may be a
duplicate). Both are pure: records in, matches out."""

from leadbridge.match.clusters import Cluster
from leadbridge.match.matcher import (
    DEFAULT_THRESHOLD,
    Found,
    evidence,
    find_duplicates,
    possible_duplicates,
)
from leadbridge.match.records import FIELDS, Agreement, Entity, Match, Records

__all__ = [
    "DEFAULT_THRESHOLD",
    "FIELDS",
    "Agreement",
    "Cluster",
    "Entity",
    "Found",
    "Match",
    "Records",
    "evidence",
    "find_duplicates",
    "possible_duplicates",
]
