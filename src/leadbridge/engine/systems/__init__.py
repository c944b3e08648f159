"""The systems a connection can be of, looked up by its kind: how to open its connector and
which preset its syncs start from. The engine finds a system here; it never branches on one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from leadbridge.connectors.apollo.catalog import CATALOG as APOLLO_CATALOG
from leadbridge.connectors.apollo.preset import PRESET as APOLLO_PRESET
from leadbridge.connectors.base import Connector
from leadbridge.connectors.catalog import Catalog
from leadbridge.connectors.http import RetryPolicy, Sleep
from leadbridge.connectors.hubspot.catalog import CATALOG as HUBSPOT_CATALOG
from leadbridge.connectors.hubspot.preset import PRESET as HUBSPOT_PRESET
from leadbridge.connectors.salesforce.catalog import CATALOG as SALESFORCE_CATALOG
from leadbridge.connectors.salesforce.preset import PRESET as SALESFORCE_PRESET
from leadbridge.engine.systems.apollo import open_apollo_connector
from leadbridge.engine.systems.hubspot import open_hubspot
from leadbridge.engine.systems.salesforce import open_salesforce
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.policy.apollo_push import ApolloPushSettings
from leadbridge.policy.crm import CrmSync
from leadbridge.policy.preset import Preset

Opener = Callable[[Connections, ConnectionInfo, CrmSync, RetryPolicy | None], Connector]


class LeadPushOpener(Protocol):
    def __call__(
        self,
        connections: Connections,
        info: ConnectionInfo,
        settings: ApolloPushSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep | None = None,
    ) -> Awaitable[Connector]: ...


@dataclass(frozen=True)
class System:
    kind: str
    catalog: Catalog
    preset: Preset
    open: Opener


def _open_salesforce(
    connections: Connections, info: ConnectionInfo, policy: CrmSync, retry: RetryPolicy | None
) -> Connector:
    return open_salesforce(
        connections, info, policy=retry, bulk_threshold=policy.push.bulk_threshold
    )


def _open_hubspot(
    connections: Connections, info: ConnectionInfo, policy: CrmSync, retry: RetryPolicy | None
) -> Connector:
    return open_hubspot(connections, info, policy=retry)


CRM_SYSTEMS: dict[str, System] = {
    "salesforce": System("salesforce", SALESFORCE_CATALOG, SALESFORCE_PRESET, _open_salesforce),
    "hubspot": System("hubspot", HUBSPOT_CATALOG, HUBSPOT_PRESET, _open_hubspot),
}


@dataclass(frozen=True)
class LeadPushSystem:
    """A system company leads are pushed to (push-only, the qualification as the gate)."""

    kind: str
    catalog: Catalog
    preset: Preset
    open: LeadPushOpener


async def _open_apollo_for_leads(
    connections: Connections,
    info: ConnectionInfo,
    settings: ApolloPushSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep | None = None,
) -> Connector:
    return await open_apollo_connector(
        connections,
        info,
        website_field=settings.website_field,
        batch_size=settings.batch_size,
        transport=transport,
        policy=policy,
        sleep=sleep,
    )


LEAD_PUSH_SYSTEMS: dict[str, LeadPushSystem] = {
    "apollo": LeadPushSystem("apollo", APOLLO_CATALOG, APOLLO_PRESET, _open_apollo_for_leads),
}


def sections() -> dict[str, str]:
    """Every object section a policy may name, with its kind (for the policy loader)."""
    out: dict[str, str] = {}
    for system in CRM_SYSTEMS.values():
        for stream in system.catalog.streams:
            if stream.section:
                out.setdefault(stream.section, stream.kind)
        for section in system.preset.refused:
            out.setdefault(section, "person")
    return out


def scope_label(kind: str) -> str:
    """What one connection of this kind reaches: an org, a portal, a team."""
    system = CRM_SYSTEMS.get(kind) or LEAD_PUSH_SYSTEMS.get(kind)
    return system.catalog.scope_label if system is not None else "scope"
