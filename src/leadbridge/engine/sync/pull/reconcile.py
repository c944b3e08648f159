"""Reconcile: mirror rows read with a change, into the hub, a chunk per transaction.

Each row is linked (matched to a hub record, or made one), its company relation followed, and
the write rules run: the CRM's values flow into the hub where it owns them or changed them last;
the hub's values are sent back where the rules say so (returned as writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from leadbridge.connectors.catalog import Stream
from leadbridge.engine.sync.apply import Write, write_hub
from leadbridge.engine.sync.context import SyncContext
from leadbridge.engine.sync.pull.run import PullReport
from leadbridge.engine.sync.resolve import resolve
from leadbridge.engine.sync.values import crm_values, hub_values, to_hub
from leadbridge.hub.edits import changed_at
from leadbridge.hub.store import by_ids, chunks
from leadbridge.hub.tables import DETACHED, Company, CrmRecord, Person, RecordLink
from leadbridge.normalize import company_name_key


@dataclass
class Lookups:
    """What one reconcile chunk looks up, loaded in a few queries instead of a few per record.
    Records created and linked during the chunk are added as they are, so later rows see them."""

    people: dict[int, Person] = field(default_factory=dict)
    companies: dict[int, Company] = field(default_factory=dict)
    people_by_email: dict[str, list[Person]] = field(default_factory=dict)
    companies_by_domain: dict[str, Company] = field(default_factory=dict)
    person_links: dict[int, dict[str, RecordLink]] = field(default_factory=dict)
    company_links: dict[int, dict[str, RecordLink]] = field(default_factory=dict)
    company_of: dict[str, RecordLink] = field(default_factory=dict)  # company id -> its link
    # Creates sent whose answer was never recorded, by the last name they carried.
    intents: dict[str, list[RecordLink]] = field(default_factory=dict)
    rivals: dict[tuple[str, str], list[CrmRecord]] = field(default_factory=dict)

    def record(self, hub_object: str, hub_id: int) -> Person | Company | None:
        return (self.companies if hub_object == "company" else self.people).get(hub_id)

    def links_of(self, hub_object: str, hub_id: int) -> dict[str, RecordLink]:
        links = self.company_links if hub_object == "company" else self.person_links
        return links.setdefault(hub_id, {})


def load(
    s: Session,
    ctx: SyncContext,
    report: PullReport,
    stream: Stream,
    rows: dict[str, CrmRecord],
    links: dict[str, RecordLink],
) -> Lookups:
    look = Lookups()
    ws = ctx.workspace_id
    linked = [link.hub_id for link in links.values()]
    unlinked = [r for rid, r in rows.items() if rid not in links and not r.deleted]
    if stream.kind == "company":
        look.companies.update(by_ids(s, Company, linked))
        # Tombstones too: the domain is still theirs (unique), and a deleted company is not
        # made again by the next record that has it.
        domains = {r.domain_key for r in unlinked}
        for c in where_in(s, Company.domain, ws, domains, deleted=True):
            look.companies.setdefault(c.id, c)
            look.companies_by_domain.setdefault(str(c.domain), c)
        names = by_name(s, ctx, report)
        named = [names[r.name_key] for r in unlinked if r.name_key and r.name_key in names]
        look.companies.update(by_ids(s, Company, [i for i in named if i not in look.companies]))
        look.company_links.update(ctx.links.of_hub(s, "company", list(look.companies)))
        for column, keys in (
            ("domain_key", {r.domain_key for r in unlinked if r.domain_key}),
            ("name_key", {r.name_key for r in unlinked if r.name_key and not r.domain_key}),
        ):
            for key, found in ctx.mirror.by_key(s, stream.name, column, keys).items():
                look.rivals[(column, key)] = found
        return look
    look.people.update(by_ids(s, Person, linked))
    last_name = stream.role("last_name") or ""
    intents = ctx.links.intents(s, stream.name)
    for intent in intents:
        look.intents.setdefault(_text((intent.pushed or {}).get(last_name)), []).append(intent)
    look.people.update(by_ids(s, Person, [i.hub_id for i in intents]))
    for p in where_in(s, Person.email_key, ws, {r.email_key for r in unlinked}):
        look.people.setdefault(p.id, p)
        look.people_by_email.setdefault(str(p.email_key), []).append(p)
    look.person_links.update(ctx.links.of_hub(s, "person", list(look.people)))
    company_ids = {p.company_id for p in look.people.values() if p.company_id}
    look.companies.update(by_ids(s, Company, list(company_ids)))
    relation = stream.company
    if relation is not None and relation.field:
        ids = sorted({str(r.fields.get(relation.field)) for r in rows.values()} - {"None", ""})
        look.company_of = ctx.links.of_remote(s, relation.target, ids)
    return look


def where_in(
    s: Session, column: Any, workspace_id: int, values: set[str | None], *, deleted: bool = False
) -> list[Any]:
    """The hub records of a workspace whose `column` is one of `values`, oldest first; the
    tombstoned ones only with `deleted`."""
    model = column.class_
    out: list[Any] = []
    for chunk in chunks(sorted(v for v in values if v)):
        out.extend(
            s.scalars(
                select(model).where(
                    model.workspace_id == workspace_id,
                    model.deleted_at.is_(None) if not deleted else true(),
                    column.in_(chunk),
                )
            )
        )
    return sorted(out, key=lambda r: r.id)


def reconcile(
    s: Session, ctx: SyncContext, report: PullReport, stream: Stream, ids: list[str]
) -> list[Write]:
    from leadbridge.engine.sync.pull.events import follow_deletion, follow_restore
    from leadbridge.engine.sync.pull.match import follow_conversions, follow_merge, match

    rows = ctx.mirror.get(s, stream.name, ids)
    for taken in rows.values():
        taken.pending = False  # taken in with this chunk's commit
    links = ctx.links.of_remote(s, stream.name, ids)
    look = load(s, ctx, report, stream, rows, links)
    to_remote, to_hub_user = ctx.users.owners(s)
    hub_object = stream.kind
    writes: list[Write] = []
    converted: list[tuple[CrmRecord, RecordLink]] = []
    for remote_id in ids:
        row = rows.get(remote_id)
        detached = remote_id in links and links[remote_id].status in DETACHED
        if detached and (
            row is None or not follow_restore(s, ctx, report, stream, row, links[remote_id])
        ):
            continue  # out of play: the remote or the hub record was deleted, or merged away
        if row is not None and row.event == "merged" and remote_id in links:
            survivor = follow_merge(s, ctx, report, stream, row, links[remote_id])
            if survivor is not None:  # the survivor, later in this chunk, is linked now
                links[survivor] = links.pop(remote_id)
            continue
        if row is None or row.deleted:
            if row is not None and remote_id in links:
                follow_deletion(s, ctx, report, stream, row, links[remote_id])
            continue
        if row.event == "converted":
            if remote_id in links:  # followed with the chunk's others, below
                converted.append((row, links[remote_id]))
            continue
        link = links.get(remote_id)
        record: Person | Company | None
        if link is None:
            record = match(s, ctx, report, look, stream, row)
            if record is None:
                continue
            link = ctx.links.add(
                s, hub_object, record.id, stream.name, remote_id, run_id=report.run_id
            )
            look.links_of(hub_object, record.id)[stream.name] = link
            report.add(f"linked_{stream.one()}")
        else:
            record = look.record(hub_object, link.hub_id)
            if record is None or record.deleted_at is not None:
                continue
        relation = stream.company
        if isinstance(record, Person) and relation is not None and relation.field:
            company_link = look.company_of.get(str(row.fields.get(relation.field) or ""))
            if company_link is not None and company_link.status in DETACHED:
                company_link = None  # a company deleted or merged away: not taken back
            if company_link is not None and record.company_id != company_link.hub_id:
                write_hub(s, report.run_id, record, {"company_id": company_link.hub_id}, None)
        company = None
        if isinstance(record, Person) and record.company_id:
            company = look.companies.get(record.company_id) or s.get(Company, record.company_id)
        w = rules(s, ctx, report, stream, row, link, record, company, to_remote, to_hub_user)
        if w is not None:
            writes.append(w)
    follow_conversions(s, ctx, report, converted)
    return writes


def rules(
    s: Session,
    ctx: SyncContext,
    report: PullReport,
    stream: Stream,
    row: CrmRecord,
    link: RecordLink,
    record: Person | Company,
    company: Company | None,
    to_remote: dict[int, str],
    to_hub_user: dict[str, int],
) -> Write | None:
    mapping = ctx.object_map(stream)
    mine = hub_values(record, mapping, policy=ctx.policy, company=company, to_remote=to_remote)
    theirs = crm_values(row.fields, mapping, stream)
    result = resolve(
        mapping.fields,
        mine,
        theirs,
        link.pushed,
        hub_changed_at=changed_at(record),
        crm_modified_at=row.modified_at,
        crm_stamp_precision=stream.stamp_precision,
    )
    if result.hub:
        changed = write_hub(
            s, report.run_id, record, to_hub(result.hub, to_hub_user), row.modified_at
        )
        report.add("hub_updated", bool(changed))
    link.pushed = theirs  # what both sides agree on now, but for the writes below
    if not result.crm:
        return None
    return Write(
        hub_object=link.hub_object,
        hub_id=link.hub_id,
        stream=stream.name,
        values=result.crm,
        remote_id=link.remote_id,
        before={k: row.fields.get(k) for k in result.crm},
    )


def by_name(s: Session, ctx: SyncContext, report: PullReport) -> dict[str, int]:
    """Company name key -> the oldest company's id with it, built once a run."""
    if report.names is None:
        report.names = {}
        for company_id, name in s.execute(
            select(Company.id, Company.name)
            .where(
                Company.workspace_id == ctx.workspace_id,
                Company.name.is_not(None),
                Company.deleted_at.is_(None),
            )
            .order_by(Company.id)
        ):
            key = company_name_key(name)
            if key:
                report.names.setdefault(key, company_id)
    return report.names


def _text(value: Any) -> str:
    return str(value or "").strip().lower()
