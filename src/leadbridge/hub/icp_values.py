"""The ICP values an import accepts: no SQLAlchemy, so the CLI's help can quote them without
loading the hub (cli/hub.py builds `import companies --help` from icp_help)."""

from __future__ import annotations

# What people write in an ICP column, mapped to the hub's four values. A fit whose strength
# is not stated ("fit", "yes", "good fit" on a fit / no-fit scale) is moderate: it qualifies,
# without claiming more. The bottom of any scale (weak, low, poor, none) is not_a_fit, since
# the hub has no level between moderate and not a fit.
ICP_SYNONYMS: dict[str, tuple[str, ...]] = {
    "strong": ("strong", "strong fit", "high", "high fit", "excellent", "great", "ideal", "best"),
    "moderate": (
        "moderate",
        "medium",
        "mid",
        "average",
        "fair",
        "ok",
        "okay",
        "partial",
        "fit",
        "good",
        "good fit",
        "yes",
    ),
    "not_a_fit": (
        "not a fit",
        "no fit",
        "not fit",
        "bad fit",
        "poor fit",
        "weak",
        "low",
        "poor",
        "bad",
        "none",
        "no",
    ),
    "unknown": ("unknown", "", "n/a", "na", "tbd", "?", "-"),
}


def icp_help() -> str:
    """The accepted ICP values, for messages and help text."""
    parts = []
    for fit, names in ICP_SYNONYMS.items():
        others = [n for n in names if n and n != fit and n != fit.replace("_", " ")]
        parts.append(f"{fit} ({', '.join(others)})" if others else fit)
    return "; ".join(parts) + "; blank is unknown"
