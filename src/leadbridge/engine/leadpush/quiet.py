"""Which leads the lead push need not evaluate: linked, settled, and not edited since they were
last in sync under the same rules, field map and owner mapping (the plan's fingerprint). A plan
counts them as unchanged without loading them, computing their criteria or their payload, so a
scheduled run over a hub where little moved costs what moved (issue "Fast and flat").

A run confirms what it found unchanged (their links' `last_synced_at` moves to when the plan read
the hub) and records the fingerprint it planned under; a different fingerprint (a rule, the map
or an owner changed) makes the next plan evaluate every lead again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, update

from leadbridge.engine.leadpush.plan import PushRules
from leadbridge.engine.leadpush.qualify import OwnerDirectory
from leadbridge.hub.db import Hub
from leadbridge.hub.links import SETTLED
from leadbridge.hub.store import chunks, link_filter
from leadbridge.hub.tables import Company, RecordLink
from leadbridge.policy.fields import ObjectMap

PLAN_VERSION = 1  # bumped when the planner's logic changes what it decides
HUB_OBJECT = "company"


def quiet(workspace_id: int, system: str, scope: str, stream: str) -> ColumnElement[bool]:
    """The condition on a Company row that makes evaluating it pointless."""
    return exists().where(
        *link_filter(workspace_id, system, scope, stream, HUB_OBJECT),
        RecordLink.hub_id == Company.id,
        RecordLink.status.in_(SETTLED),
        RecordLink.remote_id.is_not(None),
        RecordLink.remote_job_id.is_(None),
        RecordLink.stale_reason.is_(None),
        RecordLink.last_synced_at.is_not(None),
        RecordLink.last_synced_at >= Company.updated_at,
    )


def fingerprint(rules: PushRules, mapping: ObjectMap, owners: OwnerDirectory) -> str:
    """What, besides a lead's own values, decides its plan item."""
    parts = (
        PLAN_VERSION,
        repr(rules),
        repr(mapping),
        sorted(owners.active.items()),
        sorted(owners.deleted),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def confirm(
    hub: Hub, system: str, scope: str, stream: str, lead_ids: Sequence[int], as_of: datetime
) -> None:
    """The links of leads a run found unchanged are in sync as of when it read them."""
    with hub.session() as s:
        for ids in chunks(sorted(lead_ids)):
            s.execute(
                update(RecordLink)
                .where(
                    *link_filter(hub.workspace_id, system, scope, stream, HUB_OBJECT),
                    RecordLink.hub_id.in_(ids),
                    RecordLink.status.in_(SETTLED),
                    RecordLink.stale_reason.is_(None),
                )
                .values(last_synced_at=as_of)
            )
