"""Associations between records: HubSpot-defined type ids (reference A5, SDK association_type.py,
recorded v4 traffic), custom labels, and the edges the portal holds.

Every association is stored in both directions (a type id and its inverse). Creating any
association also creates the pair's default (unlabeled) one, as HubSpot does; a primary
(contact -> company 1, deal -> company 5) replaces the record's previous primary. Labels as
recorded: company -> contact 2 "Primary Company", deal -> company 5 "Primary", deal -> contact 3
none. Not thread-safe on its own: the portal calls it under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AssociationType:
    id: int
    source: str  # object type names ("contacts")
    target: str
    label: str | None
    inverse: int
    primary: bool = False
    category: str = "HUBSPOT_DEFINED"
    v3_name: str = ""


def _pair(
    a: int,
    b: int,
    source: str,
    target: str,
    labels: tuple[str | None, str | None] = (None, None),
    primary: bool = False,
    names: tuple[str, str] = ("", ""),
) -> list[AssociationType]:
    return [
        AssociationType(a, source, target, labels[0], b, primary, v3_name=names[0]),
        AssociationType(b, target, source, labels[1], a, primary, v3_name=names[1]),
    ]


_DEFINED: list[AssociationType] = [
    # [U] the labels of 1 and 6 are not recorded; 2 and 5 are.
    *_pair(1, 2, "contacts", "companies", ("Primary", "Primary Company"), primary=True,
           names=("contact_to_company", "company_to_contact")),
    *_pair(279, 280, "contacts", "companies",
           names=("contact_to_company_unlabeled", "company_to_contact_unlabeled")),
    *_pair(3, 4, "deals", "contacts", names=("deal_to_contact", "contact_to_deal")),
    *_pair(5, 6, "deals", "companies", ("Primary", "Deal with Primary Company"), primary=True,
           names=("deal_to_company", "company_to_deal")),
    *_pair(341, 342, "deals", "companies",
           names=("deal_to_company_unlabeled", "company_to_deal_unlabeled")),
]  # fmt: skip
_ENGAGEMENT_IDS = {
    "contacts": {"calls": 193, "emails": 197, "meetings": 199, "notes": 201, "tasks": 203},
    "companies": {"calls": 181, "emails": 185, "meetings": 187, "notes": 189, "tasks": 191},
    "deals": {"calls": 205, "emails": 209, "meetings": 211, "notes": 213, "tasks": 215},
}
for _owner, _ids in _ENGAGEMENT_IDS.items():
    for _engagement, _id in _ids.items():
        _DEFINED += _pair(
            _id,
            _id + 1,
            _owner,
            _engagement,
            names=(f"{_owner[:-1]}_to_{_engagement[:-1]}", f"{_engagement[:-1]}_to_{_owner[:-1]}"),
        )
# The unlabeled (default) type of each pair of object types.
DEFAULTS = {(t.source, t.target): t.id for t in _DEFINED if t.label is None and not t.primary}

Edge = tuple[str, str, str]  # (source type, source id, target type)


class Associations:
    def __init__(self) -> None:
        self.types: dict[int, AssociationType] = {t.id: t for t in _DEFINED}
        self.edges: dict[Edge, dict[str, set[int]]] = {}
        self._next_custom = 1000

    def kinds(self, source: str, target: str) -> list[AssociationType]:
        """The types between two object types: HubSpot-defined first, then custom labels."""
        return [t for t in self.types.values() if t.source == source and t.target == target]

    def add_label(self, source: str, target: str, label: str, inverse: str | None) -> int:
        forward, backward = self._next_custom, self._next_custom + 1
        self._next_custom += 2
        self.types[forward] = AssociationType(
            forward, source, target, label, backward, category="USER_DEFINED"
        )
        self.types[backward] = AssociationType(
            backward, target, source, inverse or label, forward, category="USER_DEFINED"
        )
        return forward

    def check(self, source: str, target: str, type_id: int, category: str | None) -> str | None:
        """Why this type cannot link these object types (None when it can)."""
        kind = self.types.get(type_id)
        if kind is None or kind.source != source or kind.target != target:
            return f"{type_id} is not a valid association type between {source} and {target}"
        if category is not None and category != kind.category:
            return f"association type {type_id} is of category {kind.category}, not {category}"
        return None

    def add(self, source: str, source_id: str, target: str, target_id: str, type_id: int) -> None:
        """One association (and its inverse, and the pair's default); primaries stay unique."""
        kind = self.types[type_id]
        if kind.primary:
            # The contact or deal holds the primary; its previous primary company loses it.
            if source in ("contacts", "deals"):
                holder, holder_id, company_id, held_type = source, source_id, target_id, type_id
            else:
                holder, holder_id, company_id, held_type = (
                    target,
                    target_id,
                    source_id,
                    kind.inverse,
                )
            for other_id, held in list(
                self.edges.get((holder, holder_id, "companies"), {}).items()
            ):
                if other_id != company_id and held_type in held:
                    self._discard(holder, holder_id, "companies", other_id, held_type)
        self._put(source, source_id, target, target_id, type_id)
        default = DEFAULTS.get((source, target))
        if default is not None and default != type_id:
            self._put(source, source_id, target, target_id, default)

    def remove(self, source: str, source_id: str, target: str, target_id: str) -> bool:
        """Every association between the two records; True when there was one."""
        held = self.edges.get((source, source_id, target), {}).pop(target_id, None)
        self.edges.get((target, target_id, source), {}).pop(source_id, None)
        return bool(held)

    def remove_types(
        self, source: str, source_id: str, target: str, target_id: str, type_ids: set[int]
    ) -> None:
        for type_id in type_ids:
            self._discard(source, source_id, target, target_id, type_id)

    def targets(self, source: str, source_id: str, target: str) -> list[tuple[str, list[int]]]:
        held = self.edges.get((source, source_id, target), {})
        return sorted(((i, sorted(t)) for i, t in held.items() if t), key=lambda x: int(x[0]))

    def primary_company(self, object_name: str, object_id: str) -> str | None:
        primary = {"contacts": 1, "deals": 5}.get(object_name)
        for company_id, held in self.targets(object_name, object_id, "companies"):
            if primary in held:
                return company_id
        return None

    def forget(self, object_name: str, object_id: str) -> list[tuple[str, str]]:
        """Drop every association of a record; the (type, id) of each record it was linked to."""
        linked: list[tuple[str, str]] = []
        for (source, source_id, target), held in list(self.edges.items()):
            if source == object_name and source_id == object_id:
                for target_id in list(held):
                    linked.append((target, target_id))
                    self.remove(source, source_id, target, target_id)
        return linked

    def move(self, object_name: str, old_id: str, new_id: str, keep_primary: bool) -> None:
        """A merge: the old record's associations become the new one's (primaries only when
        `keep_primary`: the primary record's win, the other's duplicate primaries are dropped)."""
        for (source, source_id, target), held in list(self.edges.items()):
            if source != object_name or source_id != old_id:
                continue
            for target_id, type_ids in list(held.items()):
                self.remove(source, source_id, target, target_id)
                for type_id in sorted(type_ids):
                    kind = self.types[type_id]
                    if kind.primary and not keep_primary:
                        holder = (
                            (source, new_id)
                            if source in ("contacts", "deals")
                            else (target, target_id)
                        )
                        if self.primary_company(*holder) is not None:
                            continue  # a duplicate primary: the primary record's wins
                    self.add(source, new_id, target, target_id, type_id)

    def _put(self, source: str, source_id: str, target: str, target_id: str, type_id: int) -> None:
        inverse = self.types[type_id].inverse
        self.edges.setdefault((source, source_id, target), {}).setdefault(target_id, set()).add(
            type_id
        )
        self.edges.setdefault((target, target_id, source), {}).setdefault(source_id, set()).add(
            inverse
        )

    def _discard(
        self, source: str, source_id: str, target: str, target_id: str, type_id: int
    ) -> None:
        inverse = self.types[type_id].inverse
        forward = self.edges.get((source, source_id, target), {})
        backward = self.edges.get((target, target_id, source), {})
        forward.get(target_id, set()).discard(type_id)
        backward.get(source_id, set()).discard(inverse)
        if not forward.get(target_id, True):
            forward.pop(target_id, None)
        if not backward.get(source_id, True):
            backward.pop(source_id, None)
