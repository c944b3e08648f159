"""Seeded orgs of realistic size: accounts, their contacts, leads (some converted), and the
duplicates real orgs have (the same person twice, with a case-changed e-mail or a typo'd name).
Deterministic by seed; goes through the org's own DML, so every seeded record is valid."""

from __future__ import annotations

import random
from dataclasses import dataclass

from leadbridge.sandbox import fakes
from leadbridge.sandbox.salesforce.org import Org


@dataclass(frozen=True)
class SeedReport:
    accounts: int
    contacts: int
    leads: int
    converted: int
    duplicates: int


def seed_org(
    org: Org,
    *,
    accounts: int = 1000,
    contacts_per_account: int = 5,
    leads: int = 2000,
    duplicate_rate: float = 0.03,
    converted_rate: float = 0.05,
    seed: int = 1,
) -> SeedReport:
    rng = random.Random(seed)
    reps = [
        org.add_user(p.email, p.first_name, p.last_name)
        for p in fakes.people(8, "org.example", seed)
    ]
    contacts = duplicates = converted = 0
    companies = list(fakes.companies(accounts + leads, seed))
    for i, company in enumerate(companies[:accounts]):
        account = org.create(
            "Account",
            {
                "Name": company.name,
                "Website": f"https://{company.domain}",
                "NumberOfEmployees": company.employees,
            },
            user_id=rng.choice(reps),
        )
        for person in fakes.people(contacts_per_account, company.domain, seed + i):
            org.create(
                "Contact",
                {
                    "FirstName": person.first_name,
                    "LastName": person.last_name,
                    "Email": person.email,
                    "AccountId": account.id,
                },
                user_id=rng.choice(reps),
                allow_dup_save=True,
            )
            contacts += 1
            if rng.random() < duplicate_rate:
                org.create(
                    "Contact",
                    {
                        "FirstName": person.first_name,
                        "LastName": person.last_name,
                        "Email": person.email.upper(),
                        "AccountId": account.id,
                    },
                    user_id=rng.choice(reps),
                    allow_dup_save=True,
                )
                duplicates += 1
    for i, company in enumerate(companies[accounts:]):
        (person,) = fakes.people(1, company.domain, seed * 7 + i)
        lead = org.create(
            "Lead",
            {
                "FirstName": person.first_name,
                "LastName": person.last_name,
                "Company": company.name,
                "Email": person.email,
            },
            user_id=rng.choice(reps),
            allow_dup_save=True,
        )
        if rng.random() < converted_rate:
            org.convert_lead(str(lead.id))
            converted += 1
    return SeedReport(accounts, contacts, leads, converted, duplicates)
