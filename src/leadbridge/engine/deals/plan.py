"""The deal push, planned (pure): per hub deal, create / update / skip / refused, with the
reason and the CRM values to send. The dry run (`deals sync --dry-run`), `deals explain` and
the real run share this one classifier.

Values go out in the CRM's field names through the catalog's deal roles: a stage as the CRM's
stage value (and, where the CRM has pipelines, the pipeline's), an owner and a company as the
remote ids of their links (left out when they have none)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from leadbridge.connectors.catalog import DealStage, Stream
from leadbridge.engine.deals.stages import Pipelines
from leadbridge.policy.crm import DealPolicy

Action = Literal["create", "update", "skip", "refused"]
JOB = "crm_deals"  # the runs' and the error log's job
COLUMN = {"owner": "owner_id", "company": "company_id"}  # plan names -> hub columns
HUB_FIELDS = ("name", "amount", "close_date", "stage", "pipeline", "owner", "company")


@dataclass(frozen=True)
class DealFacts:
    """What the plan knows of one hub deal: its values (owner and company as the remote ids
    of their links, None without one), when each changed, and its link."""

    id: int
    values: dict[str, Any]
    changed_at: dict[str, datetime | None]
    hidden: bool = False
    remote_id: str | None = None
    link_status: str | None = None
    synced_at: datetime | None = None
    pushed: dict[str, Any] = field(default_factory=dict)  # the CRM's values as last synced


@dataclass(frozen=True)
class DealPlanItem:
    deal_id: int
    action: Action
    reason: str
    remote_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)  # the CRM's field names
    field: str | None = None  # the refused field

    def line(self, noun: str) -> str:
        target = f" {noun} {self.remote_id}" if self.remote_id else f" {noun}"
        if self.action in ("create", "update"):
            names = ", ".join(sorted(self.values))
            return f"deal {self.deal_id}: {self.action}{target} ({names}): {self.reason}"
        return f"deal {self.deal_id}: {self.action}: {self.reason}"


def wire(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()[:10] if not isinstance(value, datetime) else value.isoformat()
    return value


def remote_values(
    stream: Stream, values: dict[str, Any], names: list[str], stage: DealStage | None
) -> dict[str, Any]:
    """The hub fields `names` of a deal as the CRM's fields (those the CRM has)."""
    out: dict[str, Any] = {}
    for name in names:
        if name in ("stage", "pipeline"):
            if stage is None:
                continue
            if (f := stream.role("stage")) is not None:
                out[f] = stage.value
            if (f := stream.role("pipeline")) is not None and stage.pipeline is not None:
                out[f] = stage.pipeline
            continue
        role = stream.role(name)
        if role is None:
            continue
        value = values.get(name)
        if name in ("owner", "company", "people") and not value:
            continue  # no link: the CRM keeps (or defaults) its own
        out[role] = sorted(value or []) if name == "people" else wire(value)
    return out


def plan_deal(
    facts: DealFacts, stream: Stream, pipelines: Pipelines, policy: DealPolicy
) -> DealPlanItem:
    if not policy.pushes:
        return DealPlanItem(facts.id, "skip", f"deals.mode is {policy.mode}: nothing is pushed")
    if facts.hidden:
        return DealPlanItem(facts.id, "skip", "a deal of a sync that hides deals")
    if facts.remote_id is None and facts.link_status == "undone":
        return DealPlanItem(facts.id, "skip", "its create was undone")
    people = facts.values.get("people") or []
    if facts.remote_id is None:
        names = [n for n in HUB_FIELDS if facts.values.get(n) is not None or n == "stage"]
        names += ["people"] if people else []
        reason = "new in the hub"
    else:
        since = facts.synced_at
        changed = [
            n
            for n in HUB_FIELDS
            if (at := facts.changed_at.get(n)) is not None and (since is None or at > since)
        ]
        # People are added, never taken off: new ones (linked in the CRM) are a change.
        role = stream.role("people")
        if role and set(people) - set(facts.pushed.get(role) or []):
            changed.append("people")
        owned = set(policy.crm_owned) if policy.mode == "two_way" else set()
        names = [n for n in changed if n not in owned]
        if not names:
            kept = [n for n in changed if n in owned]
            reason = (
                f"changed only CRM-owned fields ({', '.join(kept)})"
                if kept
                else "no change since the last sync"
            )
            return DealPlanItem(facts.id, "skip", reason, facts.remote_id)
        reason = "changed in the hub: " + ", ".join(names)
    stage: DealStage | None = None
    if "stage" in names or "pipeline" in names:
        found = pipelines.resolve(facts.values.get("pipeline"), facts.values.get("stage"))
        if isinstance(found, str):
            return DealPlanItem(facts.id, "refused", found, facts.remote_id, field="stage")
        stage = found
    values = remote_values(stream, facts.values, names, stage)
    if facts.remote_id is not None:  # no echoes: what the CRM holds already is not sent
        values = {
            k: v
            for k, v in values.items()
            if isinstance(v, list) or not same(facts.pushed.get(k), v)
        }
    if not values:
        return DealPlanItem(facts.id, "skip", "nothing the CRM has changed", facts.remote_id)
    action: Action = "create" if facts.remote_id is None else "update"
    return DealPlanItem(facts.id, action, reason, facts.remote_id, values)


def hub_values(stream: Stream, fields: dict[str, Any], pipelines: Pipelines) -> dict[str, Any]:
    """A CRM deal's values as hub fields (owner and company as remote ids, for the caller to
    turn into hub ids)."""
    out: dict[str, Any] = {}
    if (f := stream.role("name")) is not None and f in fields:
        out["name"] = fields[f]
    if (f := stream.role("amount")) is not None and f in fields:
        out["amount"] = _amount(fields[f])
    if (f := stream.role("close_date")) is not None and f in fields:
        out["close_date"] = _date(fields[f])
    if (f := stream.role("stage")) is not None and f in fields:
        pipe = stream.value(fields, "pipeline")
        out["pipeline"], out["stage"] = pipelines.from_remote(
            str(pipe) if pipe not in (None, "") else None,
            str(fields[f]) if fields[f] not in (None, "") else None,
        )
    for role in ("owner", "company"):
        if (f := stream.role(role)) is not None and f in fields:
            out[role] = str(fields[f]) if fields[f] not in (None, "") else None
    if (f := stream.role("people")) is not None and isinstance(fields.get(f), list):
        out["people"] = [str(i) for i in fields[f]]
    return out


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():  # epoch milliseconds
        return datetime.fromtimestamp(int(text) / 1000, UTC).date()
    return date.fromisoformat(text[:10])


def same(a: Any, b: Any) -> bool:
    """The CRM's value and ours, as the CRM would compare them (100 == "100.0", a date and
    the same date at midnight)."""
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        pass
    x, y = str(a), str(b)
    if len(x) >= 10 and len(y) >= 10 and x[4:5] == "-" and y[4:5] == "-":
        return x[:10] == y[:10]
    return x == y


@dataclass
class DealReport:
    run_id: int | None
    mode: str
    counts: dict[str, int] = field(default_factory=dict)
    plan: list[DealPlanItem] = field(default_factory=list)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n
