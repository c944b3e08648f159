"""Seed a sandbox team with realistic reps and saved accounts (deterministic by seed, no network).

team = seed_team(sandbox, users=5, accounts=200, seed=1)
team.users[0]["id"]; team.accounts[0]["domain"]
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leadbridge.sandbox import fakes

if TYPE_CHECKING:
    from leadbridge.sandbox.apollo import ApolloSandbox

TEAM_DOMAIN = "sandbox-team.example"
TITLES = (
    "Account Executive",
    "Senior Account Executive",
    "Sales Development Representative",
    "Business Development Representative",
    "Sales Manager",
)
# Most saved accounts sit in the early stages; a few are clients or dead ends.
STAGE_WEIGHTS = {
    "Review": 2,
    "Lead": 6,
    "Marketing Qualified Lead": 2,
    "Sales Qualified Lead": 1,
    "Active Opportunity": 1,
    "Current Client": 1,
    "Dead Opportunity": 1,
}


@dataclass
class SeededTeam:
    users: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)


def seed_users(sandbox: ApolloSandbox, count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(f"users-{seed}")
    return [
        sandbox.add_user(
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            title=rng.choice(TITLES),
        )
        for person in fakes.people(count, TEAM_DOMAIN, seed)
    ]


def seed_accounts(
    sandbox: ApolloSandbox, count: int, owners: list[dict[str, Any]], seed: int = 1
) -> list[dict[str, Any]]:
    """Saved accounts with unique domains, owners spread over `owners`, realistic stages."""
    rng = random.Random(f"accounts-{seed}")
    stage_ids = {stage["name"]: stage["id"] for stage in sandbox.state.stages}
    names, weights = list(STAGE_WEIGHTS), list(STAGE_WEIGHTS.values())
    accounts = []
    for company in fakes.companies(count, seed + 1):
        area, line = rng.randint(201, 989), rng.randint(0, 9999)
        accounts.append(
            sandbox.add_account(
                name=company.name,
                domain=company.domain,
                owner_id=rng.choice(owners)["id"] if owners else None,
                account_stage_id=stage_ids[rng.choices(names, weights)[0]],
                phone=f"+1 {area}-555-{line:04d}",
            )
        )
    return accounts


def seed_team(
    sandbox: ApolloSandbox, users: int = 5, accounts: int = 0, seed: int = 1
) -> SeededTeam:
    team = SeededTeam(users=seed_users(sandbox, users, seed))
    team.accounts = seed_accounts(sandbox, accounts, team.users, seed)
    return team
