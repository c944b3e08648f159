"""A deterministic generator of CRM-like people with known duplicates, for the matcher's tests
and `bench/bench_audit.py`: names from Faker's bundled US name lists (weighted as the census
counts them, so John Smith is common), companies with their domains and switchboards, and copies
of some people corrupted the way CRM data is (nicknames and typos, a personal instead of the work
e-mail, phone formats, legal-suffix variants, website spellings, missing values)."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from itertools import accumulate

from faker.providers.person.en_US import Provider as Names

from leadbridge.match import Records

FIRST = list(Names.first_names)
FIRST_W = list(Names.first_names.values())
LAST = list(Names.last_names)
LAST_W = list(Names.last_names.values())
# Cumulative weights once (choices() would add up thousands of weights on every call: a
# million records took minutes); the draws are the same.
FIRST_CW = list(accumulate(FIRST_W))
LAST_CW = list(accumulate(LAST_W))
NICKS = {
    "Robert": ["Bob", "Rob", "Bobby"], "William": ["Bill", "Will", "Billy"],
    "James": ["Jim", "Jimmy"], "John": ["Jack", "Johnny"], "Michael": ["Mike", "Mikey"],
    "Richard": ["Rick", "Dick", "Rich"], "Thomas": ["Tom", "Tommy"],
    "Christopher": ["Chris"], "Daniel": ["Dan", "Danny"], "Matthew": ["Matt"],
    "Anthony": ["Tony"], "Joseph": ["Joe", "Joey"], "David": ["Dave"], "Steven": ["Steve"],
    "Andrew": ["Andy", "Drew"], "Jennifer": ["Jen", "Jenny"], "Elizabeth": ["Liz", "Beth"],
    "Katherine": ["Kate", "Kathy"], "Margaret": ["Maggie", "Peggy"], "Patricia": ["Pat"],
    "Susan": ["Sue"], "Deborah": ["Debbie", "Deb"], "Rebecca": ["Becky"],
    "Nicholas": ["Nick"], "Jonathan": ["Jon"], "Benjamin": ["Ben"], "Samuel": ["Sam"],
    "Alexander": ["Alex"], "Timothy": ["Tim"], "Kenneth": ["Ken"], "Gregory": ["Greg"],
    "Edward": ["Ed", "Eddie"], "Ronald": ["Ron"], "Donald": ["Don"], "Charles": ["Chuck"],
}  # fmt: skip
WORDS = (
    "software digital systems labs analytics solutions networks logistics health energy "
    "capital media partners foods robotics dynamics ventures cloud data security"
).split()
SUFFIXES = ["Inc", "Inc.", "Incorporated", "Corp.", "Corporation", "LLC", "L.L.C.", "Ltd",
            "Limited", ""]  # fmt: skip
TLDS = ["com"] * 8 + ["io", "co", "net", "de", "co.uk"]
FREE = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"]
AREAS = ["201", "212", "213", "305", "312", "404", "415", "503", "512", "602", "617", "646",
         "702", "713", "718", "720", "805", "917", "919", "978"]  # fmt: skip
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


@dataclass
class Dataset:
    records: Records
    entity: list[int]  # the entity each record belongs to (the truth)

    def true_pairs(self) -> set[tuple[int, int]]:
        by: dict[int, list[int]] = {}
        for i, e in enumerate(self.entity):
            by.setdefault(e, []).append(i)
        return {
            (x, y) for group in by.values() for i, x in enumerate(group) for y in group[i + 1 :]
        }


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    op = rng.random()
    if op < 0.3:
        return word[:i] + rng.choice(KEYBOARD) + word[i + 1 :]
    if op < 0.55:
        return word[:i] + word[i + 1 :]
    if op < 0.8 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(KEYBOARD) + word[i:]


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c in string.ascii_lowercase + string.digits)


def _phone(rng: random.Random) -> str:
    return f"{rng.choice(AREAS)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"


def _format_phone(rng: random.Random, digits: str) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return rng.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"{a}{b}{c}"])


def generate(records: int, duplicate_share: float = 0.2, seed: int = 7) -> Dataset:
    """`records` people, about `duplicate_share` of them extra copies of others."""
    rng = random.Random(seed)
    entities = int(records * (1 - duplicate_share))
    companies: list[tuple[str, str, str]] = []
    used: set[str] = set()
    for _ in range(max(1, entities // 6)):
        tries = 0
        while True:
            tries += 1
            if rng.random() < 0.5:
                base = f"{rng.choices(LAST, cum_weights=LAST_CW)[0]} {rng.choice(WORDS).title()}"
            else:
                base = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
            if tries > 100:  # a million records use up the plain names: number them
                base = f"{base} {tries}"
            domain = f"{_slug(base)}.{rng.choice(TLDS)}"
            if domain not in used:
                used.add(domain)
                break
        companies.append((base, domain, _phone(rng)))
    people = []
    taken: set[tuple[int, str]] = set()
    for _ in range(entities):
        first, last = (
            rng.choices(FIRST, cum_weights=FIRST_CW)[0],
            rng.choices(LAST, cum_weights=LAST_CW)[0],
        )
        company = rng.randrange(len(companies))
        local = rng.choice(
            [
                f"{first}.{last}",
                f"{first[0]}{last}",
                f"{first}",
                f"{first}{last[0]}",
                f"{first}_{last}",
            ]
        ).lower()
        while (company, local) in taken:  # one mailbox per person within a company
            local += str(rng.randint(0, 9))
        taken.add((company, local))
        phone = companies[company][2] if rng.random() < 0.2 else _phone(rng)
        people.append((first, last, company, local, phone, rng.choice(SUFFIXES)))
    refs: list[str] = []
    entity_of: list[int] = []
    cols: dict[str, list[str | None]] = {
        k: [] for k in ("first_name", "last_name", "email", "phone", "company", "domain")
    }

    def emit(e: int, copy: bool) -> None:
        first, last, company, local, phone, suffix = people[e]
        name, domain, _ = companies[company]
        email = f"{local}@{domain}"
        if rng.random() < 0.1:
            email = f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(FREE)}".lower()
        website: str | None = rng.choice([domain, f"www.{domain}", f"https://{domain}"])
        phone_text: str | None = _format_phone(rng, phone) if rng.random() < 0.85 else None
        if copy:
            r = rng.random()
            if r < 0.15 and first in NICKS:
                first = rng.choice(NICKS[first])
            elif r < 0.3:
                first = _typo(rng, first)
            if rng.random() < 0.2:
                last = _typo(rng, last)
            if rng.random() < 0.2:
                first, last = first.upper(), last.upper()
            r = rng.random()
            if r < 0.35:
                local = rng.choice([first + "." + last, first[0] + last, first + last[:1]])
                number = rng.choice(["", str(rng.randint(1, 99))])
                email = f"{_slug(local) or 'x'}{number}@{rng.choice(FREE)}"
            elif r < 0.5:
                email = f"{first[0]}{last}@{domain}".lower()
            elif r < 0.6:
                email = email.upper()
            if rng.random() < 0.5:
                suffix = rng.choice(SUFFIXES)
            r = rng.random()
            if r < 0.4:
                website = rng.choice([f"http://www.{domain}/", domain.upper(), f"{domain}/about"])
            elif r < 0.5:
                website = None
            r = rng.random()
            if r < 0.3:
                phone_text = f"+1 {phone[:3]} {phone[3:6]} {phone[6:]}"
            elif r < 0.5:
                phone_text = None
        refs.append(f"r{len(refs)}")
        entity_of.append(e)
        cols["first_name"].append(first)
        cols["last_name"].append(last)
        cols["email"].append(email)
        cols["phone"].append(phone_text)
        cols["company"].append(f"{name} {suffix}".strip())
        cols["domain"].append(website)

    for e in range(entities):
        emit(e, copy=False)
    while len(refs) < records:
        emit(rng.randrange(entities), copy=True)
    order = list(range(len(refs)))
    rng.shuffle(order)
    columns = {k: [v[i] for i in order] for k, v in cols.items()}
    return Dataset(
        Records("person", [refs[i] for i in order], columns), [entity_of[i] for i in order]
    )
