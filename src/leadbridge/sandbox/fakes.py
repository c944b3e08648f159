"""Deterministic, realistic-looking B2B data for demos, seeds and benchmarks (no network)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

_PREFIX = (
    "Acme Blue North Silver Bright Iron Quantum Harbor Summit Cedar Atlas Nova Vertex Pioneer "
    "Granite Lumen Orbit Pacific Crescent Falcon Maple Beacon Copper Evergreen Polar Apex Delta "
    "Sierra Tidal Zenith Aurora Bold Clear Swift Noble Prime Urban Vivid Keystone Redwood"
).split()
_CORE = (
    "Logistics Analytics Robotics Health Labs Systems Energy Foods Capital Software Networks "
    "Dynamics Retail Security Media Biotech Cloud Payments Materials Learning Mobility Freight "
    "Insights Devices Works Studio Partners Solutions Data"
).split()
_SUFFIX = ("", "", "", " Inc", " GmbH", " Ltd", " LLC", " Group", " AG", " SAS", " BV")
_TLDS = (".com", ".com", ".com", ".io", ".co", ".ai", ".de", ".co.uk", ".fr", ".nl", ".net")
INDUSTRIES = (
    "Software",
    "Logistics",
    "Healthcare",
    "Financial Services",
    "Manufacturing",
    "Retail",
    "Education",
    "Energy",
    "Media",
)
FIRST = "Ann Ben Cara Dev Eli Fay Gus Hana Ivan Jo Kai Lea Max Nia Omar Pia Raj Sue Tom Uma".split()
LAST = "Adams Berg Chen Diaz Evans Fox Gupta Hall Ito Jones Kim Lopez Mori Nagy Ortiz Park".split()


@dataclass(frozen=True)
class FakeCompany:
    name: str
    domain: str
    industry: str
    employees: int


@dataclass(frozen=True)
class FakePerson:
    first_name: str
    last_name: str
    email: str


def companies(count: int, seed: int = 1) -> Iterator[FakeCompany]:
    """`count` companies with unique domains."""
    rng = random.Random(seed)
    seen: set[str] = set()
    names: set[str] = set()
    while len(seen) < count:
        a, b = rng.choice(_PREFIX), rng.choice(_CORE)
        n = len(seen)
        stem = f"{a}{b}".lower() if n < 1000 else f"{a}{b}{n}".lower()
        domain = stem + rng.choice(_TLDS)
        if domain in seen:
            continue
        seen.add(domain)
        # Real lead lists rarely repeat an exact name: a repeat gets a distinguishing number.
        name = f"{a} {b}"
        if name in names:
            name = f"{a} {b} {n}"
        names.add(name)
        yield FakeCompany(
            name=f"{name}{rng.choice(_SUFFIX)}",
            domain=domain,
            industry=rng.choice(INDUSTRIES),
            employees=int(rng.lognormvariate(4, 1.4)) + 1,
        )


def people(count: int, domain: str, seed: int = 1) -> list[FakePerson]:
    rng = random.Random(seed)
    out: list[FakePerson] = []
    used: set[str] = set()
    while len(out) < count:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}".lower() + (f"{len(out)}" if len(out) >= 40 else "")
        if email in used:
            continue
        used.add(email)
        out.append(FakePerson(first, last, f"{email}@{domain}"))
    return out
