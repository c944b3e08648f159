"""Hubs of 100,000 or 1,000,000 people, in sync with Salesforce and Apollo, built in a minute.

How: a *template* is synced for real — 1,000 people at 200 company leads, pushed to the Salesforce
sandbox (people as contacts, companies as accounts) and the companies to the Apollo sandbox, then
read back by a pull, so every link, mirror row and pushed snapshot is what the engine itself
wrote. The template is then copied K times in SQL (INSERT … SELECT over a series 1..K): each copy
gets its own ids (offset by the template's span), e-mail addresses, domains and names (prefixed
with the copy's number) and remote ids (suffixed with it), and the mirror rows and pushed
snapshots are rewritten to match (json_set / jsonb). A copy is therefore exactly as in sync as
the template: the benchmarks can only find it in sync by planning it. The first 0.1 % of a
1,000,000-person hub are the template's own records, which exist in the sandboxes: the
incremental push edits those.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import Connection

from leadbridge.engine.leadpush.run import LeadPush
from leadbridge.engine.sync.session import sync_context
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Base, Company, Person, User, utcnow
from leadbridge.jobs.tasks import pull_task, push_all_task, push_task
from leadbridge.normalize import email_key
from leadbridge.policy.crm import CrmSync
from leadbridge.sandbox import fakes

TEMPLATE_COMPANIES = 200
PEOPLE_PER_COMPANY = 5
TEMPLATE_PEOPLE = TEMPLATE_COMPANIES * PEOPLE_PER_COMPANY
REPS = [p.email for p in fakes.people(5, "team.example", 5)]
POLICY = CrmSync.model_validate({"push": {"create_people_as": "Contact"}})

# Which JSON keys of a mirror row or a pushed snapshot carry an e-mail, a domain, a name or a
# remote id (of the record's company), per remote object: rewritten per copy.
EMAIL_KEYS = ("Email", "email")
DOMAIN_KEYS = ("Website", "domain", "website", "website_url")
NAME_KEYS = ("Name", "name")
REFERENCE_KEYS = ("AccountId", "Id", "id")


def apollo_users() -> list[str]:
    """The Apollo team the template's owners map to: the reps, and the Salesforce sandbox's
    integration user (the CRM owns account owners: after the read-back pull, the accounts the
    push created are the integration user's, in the hub too)."""
    return [*REPS, "integration@sandbox.example"]


@dataclass
class Built:
    people: int
    companies: int
    template_people: int
    seconds: float


def seed_template(hub: Hub) -> None:
    """200 qualified company leads with owners, five verified people each, edited an hour ago
    (outside the lead push's settle buffer)."""
    old = utcnow() - timedelta(hours=1)
    with hub.session() as s:
        users = [User(workspace_id=hub.workspace_id, email=e) for e in REPS]
        s.add_all(users)
        s.flush()
        for i, fake in enumerate(fakes.companies(TEMPLATE_COMPANIES, seed=21)):
            company = Company(
                workspace_id=hub.workspace_id,
                name=fake.name,
                domain=fake.domain,
                industry=fake.industry,
                employee_count=fake.employees,
                icp_fit="strong",
                stage="evaluation",
                owner_id=users[i % len(users)].id,
                updated_at=old,
            )
            s.add(company)
            s.flush()
            for p in fakes.people(PEOPLE_PER_COMPANY, fake.domain, i):
                s.add(
                    Person(
                        workspace_id=hub.workspace_id,
                        first_name=p.first_name,
                        last_name=p.last_name,
                        email=p.email,
                        email_key=email_key(p.email),
                        email_status="verified",
                        title="Buyer",
                        company_id=company.id,
                        updated_at=old,
                    )
                )


async def sync_template(hub: Hub, connections: Connections) -> None:
    ctx = sync_context(hub, connections, POLICY)
    try:
        await pull_task(ctx)
        await push_task(ctx)
        await pull_task(ctx)  # reads back what the push wrote: the mirror is what the org holds
        # What `serve` runs after that pull: the backstop finds everything in sync, marks it so.
        calls = ctx.connector.calls.total
        await push_all_task(ctx)
        assert ctx.connector.calls.total == calls, "the template is not in sync"
    finally:
        await ctx.connector.aclose()
    # The read-back pull just stamped the accounts (their owner is the CRM's): no settle buffer.
    apollo = connections.get("apollo")
    connections.update_settings(apollo.id, {"apollo_push": {"settle_minutes": 0}})
    report = await LeadPush(hub, connections, connections.get("apollo")).run()
    assert report.counts["created"] == TEMPLATE_COMPANIES, (
        report.counts,
        report.skipped,
        report.message,
    )


def build(hub: Hub, connections: Connections, people: int) -> Built:
    import time

    started = time.monotonic()
    seed_template(hub)
    asyncio.run(sync_template(hub, connections))
    copies = math.ceil(people / TEMPLATE_PEOPLE) - 1
    with hub.engine.begin() as conn:
        spans = {t: conn.scalar(select(func.max(Base.metadata.tables[t].c.id))) or 0 for t in (
            "companies", "people", "record_links", "crm_records")}  # fmt: skip
        if copies:
            copy_all(conn, copies, spans)
    return Built(
        people=TEMPLATE_PEOPLE * (copies + 1),
        companies=TEMPLATE_COMPANIES * (copies + 1),
        template_people=TEMPLATE_PEOPLE,
        seconds=time.monotonic() - started,
    )


def copy_all(conn: Connection, copies: int, spans: dict[str, int]) -> None:
    dialect = conn.dialect.name
    tables = Base.metadata.tables
    c, p = spans["companies"], spans["people"]
    hub_offset = f"(CASE hub_object WHEN 'person' THEN {p} ELSE {c} END)"
    tag = "'k' || CAST(ks.k AS TEXT)"
    copy_table(conn, tables["companies"], copies, c, {
        "name": "name || ' ' || CAST(ks.k AS TEXT)",
        "domain": f"{tag} || '-' || domain",
        "website": f"CASE WHEN website IS NULL THEN NULL ELSE {tag} || '-' || website END",
    })  # fmt: skip
    copy_table(conn, tables["people"], copies, p, {
        "email": f"{tag} || '.' || email",
        "email_key": f"{tag} || '.' || email_key",
        "company_id": f"company_id + ks.k * {c}",
    })  # fmt: skip
    copy_table(conn, tables["record_links"], copies, spans["record_links"], {
        "hub_id": f"hub_id + ks.k * {hub_offset}",
        "remote_id": f"remote_id || {tag}",
        "pushed": rewrite_json(dialect, "pushed", tag),
    })  # fmt: skip
    copy_table(conn, tables["crm_records"], copies, spans["crm_records"], {
        "remote_id": f"remote_id || {tag}",
        "fields": rewrite_json(dialect, "fields", tag),
        "email_key": f"CASE WHEN email_key IS NULL THEN NULL ELSE {tag} || '.' || email_key END",
        "domain_key": f"CASE WHEN domain_key IS NULL THEN NULL ELSE {tag} || '-' || domain_key END",
        "name_key": "CASE WHEN name_key IS NULL THEN NULL ELSE name_key || ' ' || "
        "CAST(ks.k AS TEXT) END",
    }, where="t.object <> 'User'")  # the CRM's users are not copied: one team  # fmt: skip
    if dialect == "postgresql":
        for table in ("companies", "people", "record_links", "crm_records"):
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))


def copy_table(
    conn: Connection,
    table: Table,
    copies: int,
    span: int,
    overrides: dict[str, str],
    where: str = "TRUE",
) -> None:
    """Every row of the template (ids up to `span`) once per copy k in 1..copies."""
    columns = [col.name for col in table.columns]
    exprs = [
        f"id + ks.k * {span}" if col == "id" else overrides.get(col, f"t.{col}") for col in columns
    ]
    series = (
        f"generate_series(1, {copies}) AS ks(k)"
        if conn.dialect.name == "postgresql"
        else f"(WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < {copies}) "
        "SELECT k FROM s) AS ks"
    )
    conn.execute(text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(exprs)} "
        f"FROM {table.name} AS t, {series} WHERE t.id <= {span} AND {where}"
    ))  # fmt: skip


def rewrite_json(dialect: str, column: str, tag: str) -> str:
    """The column's e-mail, domain, name and reference keys rewritten for copy `tag`; keys a
    row does not have stay absent (json_replace; jsonb_set without create_missing)."""
    edits: list[tuple[str, str]] = []
    for key in EMAIL_KEYS:
        edits.append((key, f"{tag} || '.' || {{v}}"))
    for key in DOMAIN_KEYS:  # a bare domain, or a URL: the host gets the prefix
        edits.append((key, f"CASE WHEN {{v}} LIKE '%://%' THEN replace({{v}}, '://', '://' || "
                           f"{tag} || '-') ELSE {tag} || '-' || {{v}} END"))  # fmt: skip
    for key in NAME_KEYS:
        edits.append((key, "{v} || ' ' || CAST(ks.k AS TEXT)"))
    for key in REFERENCE_KEYS:
        edits.append((key, f"{{v}} || {tag}"))
    if dialect == "postgresql":
        expr = f"t.{column}::jsonb"
        for key, template in edits:
            new = template.format(v=f"(t.{column}::jsonb ->> '{key}')")
            expr = f"jsonb_set({expr}, '{{{key}}}', COALESCE(to_jsonb({new}), 'null'), false)"
        return f"({expr})::json"
    pairs = ", ".join(
        f"'$.{key}', {template.format(v=f'json_extract(t.{column}, {chr(39)}$.{key}{chr(39)})')}"
        for key, template in edits
    )
    return f"json_replace(t.{column}, {pairs})"
