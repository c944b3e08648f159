"""Push to a campaign: after a push, the sync's linked people in its scope (or the people a
manual push names) join the policy's `campaign:` (or `push --campaign`): a Salesforce
CampaignMember, a HubSpot static list's member. Each joins once: the hub keeps who it added
(CampaignMember rows) and the connector leaves those already members alone.

A campaign the CRM does not have, or one the user may not add members to, is one entry in the
error log with the fix, and nothing is written: the next push tries again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import and_, exists, not_, select, update

from leadbridge.connectors.base import CampaignWriter
from leadbridge.connectors.errors import AccessDeniedError, ConnectorError, PermanentError
from leadbridge.engine.sync.apply import JOB
from leadbridge.engine.sync.context import SyncContext, SyncRefused
from leadbridge.engine.sync.push.select import in_scope
from leadbridge.hub.store import chunks, log_error
from leadbridge.hub.tables import (
    DETACHED,
    CampaignMember,
    ErrorLogEntry,
    Person,
    RecordLink,
    utcnow,
)

BATCH = 200  # people per call of the connector (it batches further as its API wants)


def campaign_writer(ctx: SyncContext) -> CampaignWriter:
    if not hasattr(ctx.connector, "add_to_campaign"):
        raise SyncRefused(f"{ctx.label} has no campaigns to push people to")
    return cast(CampaignWriter, ctx.connector)


def check_campaign(ctx: SyncContext, person_ids: Sequence[int] | None) -> None:
    """Who would join must be said: the people named, or the sync's scope."""
    campaign_writer(ctx)
    if person_ids is None and not ctx.policy.scope.restricted:
        raise SyncRefused(
            "a campaign needs the people who join it: name them (`push EMAIL… --campaign`) "
            "or give the sync a scope (scope: {tags: […], personas: […]})"
        )


def _joining(
    ctx: SyncContext, campaign: str, person_ids: Sequence[int] | None
) -> list[tuple[int, str, str]]:
    """(person id, person stream, remote id) of the linked people not yet added."""
    order = ctx.person_names()
    already = exists().where(
        CampaignMember.workspace_id == ctx.workspace_id,
        CampaignMember.remote_system == ctx.system,
        CampaignMember.remote_scope == ctx.scope,
        CampaignMember.campaign == campaign,
        CampaignMember.person_id == Person.id,
    )
    query = (
        select(Person.id, RecordLink.remote_object, RecordLink.remote_id)
        .join(
            RecordLink,
            and_(
                RecordLink.workspace_id == ctx.workspace_id,
                RecordLink.remote_system == ctx.system,
                RecordLink.remote_scope == ctx.scope,
                RecordLink.hub_object == "person",
                RecordLink.hub_id == Person.id,
                RecordLink.remote_object.in_(order),
                RecordLink.remote_id.is_not(None),
                RecordLink.status.not_in(DETACHED),
            ),
        )
        .where(Person.workspace_id == ctx.workspace_id, Person.deleted_at.is_(None))
        .where(not_(already))
        .order_by(Person.id)
    )
    if ctx.policy.scope.restricted:
        query = query.where(in_scope(ctx.policy.scope))
    found: dict[int, tuple[str, str]] = {}
    with ctx.hub.session() as s:
        rows = (
            [
                r
                for ids in chunks(list(person_ids))
                for r in s.execute(query.where(Person.id.in_(ids)))
            ]
            if person_ids is not None
            else list(s.execute(query))
        )
    for pid, stream, rid in rows:
        mine = found.get(pid)
        if mine is None or order.index(stream) < order.index(mine[0]):
            found[pid] = (stream, str(rid))
    return [(pid, *found[pid]) for pid in sorted(found)]


async def join_campaign(
    ctx: SyncContext,
    run_id: int,
    campaign: str,
    counts: dict[str, int],
    person_ids: Sequence[int] | None = None,
) -> None:
    """The people who should be members and are not yet, added; counts `campaign_added`,
    `campaign_already` (members before), `campaign_failed`."""
    writer = campaign_writer(ctx)
    people = _joining(ctx, campaign, person_ids)
    for start in range(0, len(people), BATCH):
        batch = people[start : start + BATCH]
        try:
            results = await writer.add_to_campaign(campaign, batch)
        except (PermanentError, AccessDeniedError) as exc:
            _campaign_failed(ctx, run_id, campaign, writer, exc)
            counts["campaign_failed"] = counts.get("campaign_failed", 0) + len(people) - start
            return
        with ctx.hub.session() as s:
            _resolve_campaign_error(s, ctx, campaign, writer)
            for (pid, _, _), result in zip(batch, results, strict=True):
                if result.error is not None:
                    _member_failed(s, ctx, run_id, campaign, pid, result.error)
                    counts["campaign_failed"] = counts.get("campaign_failed", 0) + 1
                    continue
                s.add(
                    CampaignMember(
                        workspace_id=ctx.workspace_id,
                        remote_system=ctx.system,
                        remote_scope=ctx.scope,
                        campaign=campaign,
                        person_id=pid,
                        remote_id=result.remote_id if result.created else None,
                    )
                )
                key = "campaign_added" if result.created else "campaign_already"
                counts[key] = counts.get(key, 0) + 1


def _campaign_key(campaign: str, writer: CampaignWriter) -> str:
    return f"{writer.campaign_word}:{campaign}"[:100]  # the error log's remote id


def _resolve_campaign_error(
    s: Any, ctx: SyncContext, campaign: str, writer: CampaignWriter
) -> None:
    """The campaign answered: its earlier failure (missing, no permission) is fixed."""
    s.execute(
        update(ErrorLogEntry)
        .where(
            ErrorLogEntry.workspace_id == ctx.workspace_id,
            ErrorLogEntry.job == JOB,
            ErrorLogEntry.hub_id.is_(None),
            ErrorLogEntry.remote_id == _campaign_key(campaign, writer),
            ErrorLogEntry.resolved_at.is_(None),
        )
        .values(resolved_at=utcnow())
    )


def _campaign_failed(
    ctx: SyncContext,
    run_id: int,
    campaign: str,
    writer: CampaignWriter,
    exc: ConnectorError,
) -> None:
    hint = getattr(exc, "hint", None) or (
        f"give the connected {ctx.label} user the permission to add members to this "
        f"{writer.campaign_word}, then push again"
    )
    with ctx.hub.session() as s:
        log_error(
            s,
            workspace_id=ctx.workspace_id,
            job=JOB,
            error_class="access_denied" if isinstance(exc, AccessDeniedError) else "permanent",
            message=f"push to {writer.campaign_word} {campaign!r}: "
            + ("not allowed to add members: " if isinstance(exc, AccessDeniedError) else "")
            + str(exc),
            run_id=run_id,
            connection_id=ctx.connection.id,
            remote_id=_campaign_key(campaign, writer),
            hint=hint,
        )


def _member_failed(
    s: Any, ctx: SyncContext, run_id: int, campaign: str, person_id: int, error: ConnectorError
) -> None:
    log_error(
        s,
        workspace_id=ctx.workspace_id,
        job=JOB,
        error_class="permanent",
        message=f"not added to {campaign!r}: {error}",
        run_id=run_id,
        connection_id=ctx.connection.id,
        hub_object="person",
        hub_id=person_id,
        hint=getattr(error, "hint", None),
    )
