"""The Apollo act of `leadbridge demo`: an Apollo sandbox with a team (one rep with no Apollo
user, one whose user is deleted) and some accounts already there; the hub's users and a few
thousand realistic company leads (a spread of ICP fit, stages, quarantine and owners) imported
from CSV; then the lead push as a person runs it: connect, map users, plan, run, run again
(nothing changes), and `explain` of a company that was not pushed."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from leadbridge.demo_tour import Tour
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Company, SyncRun, utcnow
from leadbridge.sandbox import fakes
from leadbridge.sandbox.apollo import ApolloSandbox

STAGES = ["pending", "target", "education", "solution", "evaluation", "ready_to_buy"]


@dataclass
class PushRun:
    status: str
    counts: dict[str, Any]


@dataclass
class ApolloDemo:
    first: PushRun
    second: PushRun
    apollo_accounts: int
    preexisting: int


def write_demo_data(directory: Path, companies: int, seed: int) -> tuple[Path, Path, list[str]]:
    """users.csv and companies.csv; returns the reps' e-mails."""
    rng = random.Random(seed)
    reps = [p.email for p in fakes.people(10, "team.example", seed)]
    users_csv = directory / "users.csv"
    with users_csv.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["email", "first_name", "last_name"])
        for email in reps:
            first, last = email.split("@")[0].split(".")
            out.writerow([email, first.title(), last.title()])
    companies_csv = directory / "companies.csv"
    with companies_csv.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(
            [
                "name",
                "domain",
                "industry",
                "employees",
                "icp_fit",
                "stage",
                "customer",
                "quarantine",
                "owner",
            ]
        )
        for company in fakes.companies(companies, seed):
            fit = rng.choices(["strong", "moderate", "not_a_fit", "unknown"], [35, 30, 15, 20])[0]
            stage = rng.choices(
                [*STAGES, "customer", "not_a_fit", ""], [8, 12, 18, 18, 16, 10, 8, 5, 5]
            )[0]
            out.writerow(
                [
                    company.name if rng.random() > 0.01 else "",
                    company.domain,
                    company.industry,
                    company.employees,
                    fit,
                    stage,
                    "true" if stage == "customer" else "false",
                    "quarantined" if rng.random() < 0.08 else "active",
                    rng.choice(reps) if rng.random() > 0.06 else "",
                ]
            )
    return users_csv, companies_csv, reps


def backdate(hub: Hub, rng: random.Random) -> None:
    """Leads were edited over the last weeks, a few just now (they wait for the settle buffer):
    the import stamped them all now, so the demo moves the stamps back as history would."""
    now = utcnow()
    with hub.session() as s:
        for company in s.scalars(select(Company)):
            recent = rng.random() < 0.02
            company.updated_at = now - (
                timedelta(seconds=rng.randint(10, 200))
                if recent
                else timedelta(minutes=rng.randint(10, 60 * 24 * 30))
            )


def seed_apollo(sandbox: ApolloSandbox, hub: Hub, reps: list[str], rng: random.Random) -> int:
    """The team's users (the tenth rep has none, the ninth's is deleted) and accounts already
    in Apollo for about 5 % of the hub's companies; returns how many accounts."""
    users = [
        sandbox.add_user(
            email=email,
            first_name=email.split(".")[0].title(),
            last_name=email.split(".")[1].split("@")[0].title(),
            deleted=(i == 8),
        )
        for i, email in enumerate(reps[:9])
    ]
    sandbox.add_user(email="ops@team.example", first_name="Ops", last_name="Bot")
    with hub.session() as s:
        domains = [(c.name, c.domain) for c in s.scalars(select(Company))]
    preexisting = [d for d in domains if rng.random() < 0.05]
    for name, domain in preexisting:
        sandbox.add_account(name=name or domain, domain=domain, owner_id=rng.choice(users)["id"])
    return len(preexisting)


def run_apollo_demo(
    hub: Hub, sandbox: ApolloSandbox, url: str, tour: Tour, companies: int, seed: int
) -> ApolloDemo:
    rng = random.Random(seed)
    write_demo_data(tour.workdir, companies, seed)
    tour.run("import", "users", "users.csv", lines=2)
    tour.run("import", "companies", "companies.csv", lines=2)
    backdate(hub, rng)
    reps = [row["email"] for row in csv.DictReader((tour.workdir / "users.csv").open())]
    preexisting = seed_apollo(sandbox, hub, reps, rng)
    tour.note(f"an Apollo team with {len(sandbox.users())} users and {preexisting} accounts")
    key = sandbox.issue_api_key(master=True)
    tour.run(
        "connect", "apollo", "--base-url", url,
        shown=f"LEADBRIDGE_APOLLO_API_KEY=… leadbridge connect apollo --base-url {url}",
        env={"LEADBRIDGE_APOLLO_API_KEY": key},
        lines=1,
    )  # fmt: skip
    tour.run("users", "sync", lines=1)
    tour.run("plan", "apollo-push", "--show", "3", lines=9)
    tour.run("run", "apollo-push", lines=3)
    tour.note("a second run: nothing changed in the hub, so nothing is sent")
    tour.run("run", "apollo-push", lines=1)
    skipped = _a_skipped_domain(tour.workdir / "companies.csv")
    tour.run("explain", skipped, lines=10)
    first, second = _last_runs(hub, 2)
    return ApolloDemo(first, second, len(sandbox.accounts()), preexisting)


def _a_skipped_domain(companies_csv: Path) -> str:
    """A company the push leaves out for its ICP fit: what `explain` is for."""
    with companies_csv.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["icp_fit"] == "not_a_fit" and row["name"]:
                return row["domain"]
    raise ValueError("the demo data has no company that is not a fit")


def _last_runs(hub: Hub, count: int) -> list[PushRun]:
    with hub.session() as s:
        rows = s.scalars(
            select(SyncRun).where(SyncRun.job == "apollo-push").order_by(SyncRun.id.desc())
        ).all()[:count]
        return [PushRun(r.status, dict(r.counts)) for r in reversed(rows)]
