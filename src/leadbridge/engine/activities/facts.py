"""What the activity push needs from the hub, read in a few chunked queries: the activities not
yet in this CRM, and for each its facts (select.ActivityFacts) and what it becomes there
(connectors.activity.ActivityOut: the remote ids of its person, company, deal and owner)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from leadbridge.connectors.activity import ActivityOut
from leadbridge.engine.activities.select import ActivityFacts
from leadbridge.engine.sync.context import SyncContext
from leadbridge.hub.store import by_ids, chunks
from leadbridge.hub.tables import Activity, Person, RecordLink

HUB_OBJECT = "activity"


def key_of(workspace_id: int, activity_id: int) -> str:
    """leadbridge's id of an activity in a CRM: unique per hub, the same on every send."""
    return f"lb-{workspace_id}-{activity_id}"


@dataclass(frozen=True)
class Loaded:
    activity: Activity
    facts: ActivityFacts
    out: ActivityOut


def waiting(
    s: Session,
    ctx: SyncContext,
    ids: Sequence[int] | None = None,
    limit: int | None = None,
    after: int = 0,
) -> list[Activity]:
    """Activities with no record in this CRM yet (none, or a create intent), by id (from
    `after`); one that failed permanently waits for `leadbridge errors retry`."""
    landed = exists().where(
        and_(
            *ctx.links.where(),
            RecordLink.hub_object == HUB_OBJECT,
            RecordLink.hub_id == Activity.id,
            RecordLink.remote_id.is_not(None) | RecordLink.failed_hash.is_not(None),
        )
    )
    query = (
        select(Activity)
        .where(Activity.workspace_id == ctx.workspace_id, Activity.id > after, ~landed)
        .order_by(Activity.id)
    )
    if ids is not None:
        query = query.where(Activity.id.in_(list(ids)))
    if limit is not None:
        query = query.limit(limit)
    return list(s.scalars(query))


def _remote(
    s: Session, ctx: SyncContext, hub_object: str, ids: set[int], order: Sequence[str]
) -> dict[int, tuple[str, str]]:
    """hub id -> (remote object, remote id) of its linked record, the first of `order` that
    has one (a contact over a lead); any linked object when `order` is empty."""
    out: dict[int, tuple[str, str]] = {}
    for hub_id, links in ctx.links.of_hub(s, hub_object, ids).items():
        names = list(order) or sorted(links)
        for name in names:
            link = links.get(name)
            if link is not None and link.remote_id and link.status != "undone":
                out[hub_id] = (name, link.remote_id)
                break
    return out


def _hub_sent_threads(s: Session, workspace_id: int, threads: set[str]) -> set[str]:
    """The threads among `threads` the hub (or Apollo) sent an e-mail into."""
    found: set[str] = set()
    for chunk in chunks(sorted(threads)):
        found.update(
            t
            for (t,) in s.execute(
                select(Activity.thread_id).where(
                    Activity.workspace_id == workspace_id,
                    Activity.kind == "email",
                    Activity.direction == "outgoing",
                    Activity.thread_id.in_(chunk),
                    (Activity.sent_from_hub | Activity.sent_from_sequence),
                )
            )
            if t
        )
    return found


def load(s: Session, ctx: SyncContext, rows: Sequence[Activity]) -> list[Loaded]:
    person_ids = {a.person_id for a in rows if a.person_id}
    people = by_ids(s, Person, sorted(person_ids))
    attendee_keys = {e.lower() for a in rows for e in (a.attendees or [])}
    attendees: dict[str, int] = {}
    for chunk in chunks(sorted(attendee_keys)):
        for p in s.scalars(
            select(Person).where(
                Person.workspace_id == ctx.workspace_id, Person.email_key.in_(chunk)
            )
        ):
            attendees.setdefault(str(p.email_key), p.id)
    person_streams = [st.name for st in ctx.people()]
    remote_people = _remote(s, ctx, "person", person_ids | set(attendees.values()), person_streams)
    company_ids = {a.company_id for a in rows if a.company_id}
    company_ids |= {p.company_id for p in people.values() if p.company_id}
    remote_companies = _remote(s, ctx, "company", company_ids, [ctx.company().name])
    remote_deals = _remote(s, ctx, "deal", {a.deal_id for a in rows if a.deal_id}, [])
    owners, _ = ctx.users.owners(s)
    replies = _hub_sent_threads(
        s,
        ctx.workspace_id,
        {a.thread_id for a in rows if a.thread_id and a.direction == "incoming"},
    )
    out = []
    for a in rows:
        person = people.get(a.person_id) if a.person_id else None
        company_id = a.company_id or (person.company_id if person else None)
        remote_person = remote_people.get(a.person_id) if a.person_id else None
        remote_company = remote_companies.get(company_id) if company_id else None
        remote_deal = remote_deals.get(a.deal_id) if a.deal_id else None
        participant = remote_person is not None or any(
            attendees.get(e.lower()) in remote_people for e in (a.attendees or [])
        )
        facts = ActivityFacts(
            kind=a.kind,
            occurred_at=a.occurred_at,
            subject=a.subject,
            direction=a.direction,
            from_email=a.from_email,
            to_emails=tuple(a.to_emails or ()),
            sent_from_hub=a.sent_from_hub,
            sent_from_sequence=a.sent_from_sequence,
            reply_to_hub=bool(a.thread_id and a.thread_id in replies),
            person_email=person.email if person else None,
            person_in_crm=remote_person is not None,
            company_in_crm=remote_company is not None,
            deal_in_crm=remote_deal is not None,
            participant_in_crm=participant,
            call_outcome=a.call_outcome,
            call_duration_seconds=a.call_duration_seconds,
        )
        out.append(
            Loaded(
                a,
                facts,
                ActivityOut(
                    key=key_of(ctx.workspace_id, a.id),
                    kind=a.kind,
                    title="",
                    occurred_at=a.occurred_at,
                    body=a.body_preview,
                    person=remote_person,
                    company=remote_company[1] if remote_company else None,
                    deal=remote_deal[1] if remote_deal else None,
                    owner=owners.get(a.owner_id) if a.owner_id else None,
                    direction=a.direction,
                    from_email=a.from_email,
                    to_emails=tuple(a.to_emails or ()),
                    cc_emails=tuple(a.cc_emails or ()),
                    call_outcome=a.call_outcome,
                    call_duration_seconds=a.call_duration_seconds,
                    recording_url=a.recording_url,
                    meeting_start=a.meeting_start,
                    meeting_end=a.meeting_end,
                    location=a.location,
                    attendees=tuple(a.attendees or ()),
                    due_at=a.due_at,
                    task_status=a.task_status,
                ),
            )
        )
    return out
