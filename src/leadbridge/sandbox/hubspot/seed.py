"""Seeded portals of realistic size: owners (one of them deactivated), companies with their
contacts (primary company set), deals in the default pipeline, and the duplicates real portals
have (the same person again under a variant e-mail, a company created twice for one domain).
Deterministic by seed; written through the portal's own rules as HubSpot users would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadbridge.sandbox import fakes
from leadbridge.sandbox.hubspot.pipelines import DEFAULT_STAGES

if TYPE_CHECKING:
    from leadbridge.sandbox.hubspot.admin import Console

INDUSTRIES = ("COMPUTER_SOFTWARE", "LOGISTICS_AND_SUPPLY_CHAIN", "HOSPITAL_HEALTH_CARE",
              "FINANCIAL_SERVICES", "MACHINERY", "RETAIL", "EDUCATION_MANAGEMENT")  # fmt: skip
LEAD_STATUSES = ("NEW", "OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED")


@dataclass(frozen=True)
class SeedReport:
    owners: int
    companies: int
    contacts: int
    deals: int
    duplicate_contacts: int
    duplicate_companies: int


def seed_portal(
    console: Console,
    *,
    companies: int = 100,
    contacts_per_company: int = 3,
    deals: int = 20,
    duplicate_rate: float = 0.03,
    seed: int = 1,
) -> SeedReport:
    portal = console.portal
    rng = random.Random(f"hubspot-{seed}")
    with portal.lock:
        reps = [
            portal.add_owner(p.email, p.first_name, p.last_name)
            for p in fakes.people(6, "portal.example", seed)
        ]
        portal.add_owner("former.rep@portal.example", "Former", "Rep", archived=True)
    users = [str(r["userIdIncludingInactive"]) for r in reps]
    made_companies = contacts = dup_contacts = dup_companies = 0
    company_ids: list[str] = []
    contact_ids: list[str] = []
    for i, company in enumerate(fakes.companies(companies, seed)):
        owner = rng.choice(reps)
        values = {
            "name": company.name,
            "domain": company.domain,
            "industry": rng.choice(INDUSTRIES),
            "numberofemployees": str(company.employees),
            "hubspot_owner_id": owner["id"],
        }
        made = console.create("companies", values, rng.choice(users))
        company_ids.append(made.id)
        made_companies += 1
        if rng.random() < duplicate_rate:
            console.create("companies", {"name": company.name, "domain": company.domain})
            dup_companies += 1
        for person in fakes.people(contacts_per_company, company.domain, seed + i):
            contact = console.create(
                "contacts",
                {
                    "firstname": person.first_name,
                    "lastname": person.last_name,
                    "email": person.email,
                    "hs_lead_status": rng.choice(LEAD_STATUSES),
                    "hubspot_owner_id": owner["id"],
                },
                rng.choice(users),
            )
            console.associate("contacts", contact.id, "companies", made.id, 1)
            contact_ids.append(contact.id)
            contacts += 1
            if rng.random() < duplicate_rate:
                local, domain = person.email.split("@")
                console.create(
                    "contacts",
                    {
                        "firstname": person.first_name,
                        "lastname": person.last_name,
                        "email": f"{local}+{i}@{domain}",
                    },
                    rng.choice(users),
                )
                dup_contacts += 1
    stages = [s[0] for s in DEFAULT_STAGES]
    for n in range(deals if company_ids else 0):
        company_id = rng.choice(company_ids)
        deal = console.create(
            "deals",
            {
                "dealname": f"Deal {n + 1}",
                "dealstage": rng.choice(stages),
                "amount": str(rng.randrange(1_000, 90_000, 500)),
                "hubspot_owner_id": rng.choice(reps)["id"],
            },
            rng.choice(users),
        )
        console.associate("deals", deal.id, "companies", company_id, 5)
        if contact_ids:
            console.associate("deals", deal.id, "contacts", rng.choice(contact_ids), 3)
    return SeedReport(
        len(reps) + 1, made_companies, contacts, deals if company_ids else 0, dup_contacts,
        dup_companies,
    )  # fmt: skip
