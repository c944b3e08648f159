"""The write rules, as one pure function: given the hub's values, the CRM's values and the
snapshot both sides last agreed on, what to write where.

- crm_to_hub: the CRM owns the field; its value flows into the hub.
- hub_to_crm + overwrite: the hub's value is written where it differs (never an empty one).
- hub_to_crm + auto_fill: the hub's value is written only into an empty CRM field.
- both (latest): a side whose value moved away from the snapshot changed it; if both did, the
  later change wins (the CRM's record stamp against the hub's per-field change time; a tie
  goes to the CRM). The hub's time is compared at the stamp's precision (Salesforce stamps whole
  seconds): a hub change within the CRM stamp's second cannot be ordered against it, so it ties.
  Nothing moved, nothing is written: an echo of our own write is not a change.
- manual: a person's explicit push or edit writes the hub's value of any hub-writable field,
  whatever its rule.

The snapshot is per link and per CRM field; a push without a fresh read passes the snapshot as
the CRM's values (the last state we know).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from leadbridge.policy.crm import FieldMap


def same(a: Any, b: Any) -> bool:
    """Equality as a person sees it: None and '' are both empty; e-mails ignore case; a
    number and its text ("87" in the hub, 87.0 from a number field) are one value, and so
    are a checkbox and "true"/"false" (custom values often arrive as text from an import)."""
    if isinstance(a, str):
        a = a.strip() or None
    if isinstance(b, str):
        b = b.strip() or None
    if isinstance(a, str) and isinstance(b, str):
        return a == b or ("@" in a and a.lower() == b.lower())
    if isinstance(a, str) or isinstance(b, str):
        text, other = (a, b) if isinstance(a, str) else (b, a)
        if isinstance(other, bool):
            return text.lower() == str(other).lower()
        if isinstance(other, int | float):
            number = _number(text)
            return number is not None and number == float(other)
        return False
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return bool(a == b)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class Resolution:
    crm: dict[str, Any] = field(default_factory=dict)  # CRM field -> value to write
    hub: dict[str, Any] = field(default_factory=dict)  # hub field -> value to store

    def __bool__(self) -> bool:
        return bool(self.crm or self.hub)


def resolve(
    fields: Iterable[FieldMap],
    hub: Mapping[str, Any],
    crm: Mapping[str, Any],
    snapshot: Mapping[str, Any] | None,
    *,
    hub_changed_at: Mapping[str, datetime | None] | None = None,
    crm_modified_at: datetime | None = None,
    crm_stamp_precision: timedelta = timedelta(microseconds=1),
    manual: bool = False,
) -> Resolution:
    out = Resolution()
    snap = snapshot or {}
    for f in fields:
        mine, theirs = hub.get(f.hub), crm.get(f.crm)
        if same(mine, theirs):
            continue
        if manual and f.writes_crm and not empty(mine):
            out.crm[f.crm] = mine
            continue
        if f.direction == "crm_to_hub":
            if f.writes_hub:
                out.hub[f.hub] = theirs
        elif f.direction == "hub_to_crm":
            if empty(mine):
                continue
            if f.rule == "overwrite" or empty(theirs):
                out.crm[f.crm] = mine
        else:
            crm_at = (crm_modified_at, crm_stamp_precision)
            _latest(f, mine, theirs, snap, hub_changed_at or {}, crm_at, out)
    return out


def _latest(
    f: FieldMap,
    mine: Any,
    theirs: Any,
    snap: Mapping[str, Any],
    hub_changed_at: Mapping[str, datetime | None],
    crm_at: tuple[datetime | None, timedelta],
    out: Resolution,
) -> None:
    known = f.crm in snap
    hub_moved = not known or not same(mine, snap.get(f.crm))
    crm_moved = not known or not same(theirs, snap.get(f.crm))
    if hub_moved and crm_moved:
        if empty(mine) or empty(theirs):  # first meeting: fill the empty side
            hub_wins = empty(theirs)
        else:
            mine_at, (theirs_at, precision) = hub_changed_at.get(f.hub), crm_at
            hub_wins = mine_at is not None and (
                theirs_at is None or floor(mine_at, precision) > theirs_at
            )
    else:
        hub_wins = hub_moved
    if hub_wins:
        if not empty(mine):
            out.crm[f.crm] = mine
    elif f.writes_hub:
        out.hub[f.hub] = theirs


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor(at: datetime, precision: timedelta) -> datetime:
    """`at` cut down to a stamp of `precision`, as the CRM would have stamped it."""
    base = _EPOCH if at.tzinfo else _EPOCH.replace(tzinfo=None)
    return at - (at - base) % precision
