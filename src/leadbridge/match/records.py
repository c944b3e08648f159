"""What the matcher compares and what it answers: records (one entity each: a CRM record, a
hub person or company), and matches with the evidence that made them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["person", "company"]

# The fields the matcher reads, in the order records are given as columns.
FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "company",
    "domain",
    "street",
    "city",
    "postcode",
    "country",
)


@dataclass(frozen=True)
class Entity:
    """One record to match. `ref` names it for people ("salesforce Contact 0031…", "hub person
    12"); `domain` is a company website or domain (any spelling); a person's `company` is its
    company's name."""

    ref: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    company: str | None = None
    domain: str | None = None
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None


@dataclass
class Records:
    """Records as columns (what scales to a million rows): `columns[field][i]` is record i's
    value; `groups[i]`, when given, says which side record i is on (pairs within one side are
    not looked at: "hub people against CRM records")."""

    kind: Kind
    refs: list[str]
    columns: dict[str, list[str | None]]
    groups: list[int] | None = None

    def __post_init__(self) -> None:
        n = len(self.refs)
        for name in FIELDS:
            column = self.columns.setdefault(name, [None] * n)
            if len(column) != n:
                raise ValueError(f"column {name} has {len(column)} values for {n} records")
        if self.groups is not None and len(self.groups) != n:
            raise ValueError(f"{len(self.groups)} groups for {n} records")

    def __len__(self) -> int:
        return len(self.refs)

    @classmethod
    def of(
        cls, kind: Kind, entities: Iterable[Entity], groups: Sequence[int] | None = None
    ) -> Records:
        items = list(entities)
        columns = {name: [getattr(e, name) for e in items] for name in FIELDS}
        return cls(kind, [e.ref for e in items], columns, list(groups) if groups else None)

    def entity(self, i: int) -> Entity:
        return Entity(self.refs[i], **{name: self.columns[name][i] for name in FIELDS})


@dataclass(frozen=True)
class Agreement:
    """How one field compared: `level` is exact, nickname, similar, different…, `weight` the
    evidence it gave (log2 of how much likelier it is for one entity than for two)."""

    field: str
    level: str
    weight: float
    detail: str = ""

    def describe(self) -> str:
        text = f"{self.field} {self.level}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True)
class Match:
    """A record judged the same entity as another, with the confidence (a probability) and the
    evidence, strongest first."""

    ref: str
    index: int
    confidence: float
    evidence: tuple[Agreement, ...] = field(default_factory=tuple)

    def explain(self) -> str:
        shown = [a.describe() for a in self.evidence if a.level != "missing"]
        return "; ".join(shown)
