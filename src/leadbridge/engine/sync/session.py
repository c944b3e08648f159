"""Opening a sync: its connection, the connector of the connection's system, the system's
preset, and the policy checked against that system's objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from leadbridge.connectors.http import RetryPolicy
from leadbridge.engine.sync.context import SyncContext, SyncRefused
from leadbridge.engine.systems import CRM_SYSTEMS, System
from leadbridge.hub.connections import ConnectionInfo, ConnectionNotFound, Connections
from leadbridge.hub.db import Hub
from leadbridge.policy.crm import CrmSync


def system_of(connection: ConnectionInfo) -> System:
    system = CRM_SYSTEMS.get(connection.kind)
    if system is None:
        kinds = ", ".join(CRM_SYSTEMS)
        raise SyncRefused(
            f"connection {connection.name!r} is a {connection.kind} connection: a CRM sync "
            f"runs on a connection of {kinds}"
        )
    return system


def check_policy(policy: CrmSync, system: System) -> None:
    """The policy's object sections against this system's objects, before anything runs."""
    catalog = system.catalog
    known = {s.section: s.kind for s in catalog.streams if s.section}
    problems = []
    for section in policy.objects:
        if section in system.preset.refused:
            problems.append(f"{section}: {system.preset.refused[section]}")
        elif section not in known:
            names = ", ".join(sorted(known))
            problems.append(f"{section}: {catalog.label} has no such object ({names})")
    problems += [f"{loc[1]}: {message}" for loc, message in policy.map_problems(known)]
    if problems:
        raise SyncRefused(f"the policy's sync for {policy.connection!r}: " + "; ".join(problems))


def sync_context(
    hub: Hub,
    connections: Connections,
    policy: CrmSync,
    *,
    retry: RetryPolicy | None = None,
    clock: Callable[[], datetime] | None = None,
) -> SyncContext:
    try:
        connection = connections.get(policy.connection)
    except ConnectionNotFound:
        kinds = " or ".join(f"`leadbridge connect {k}`" for k in CRM_SYSTEMS)
        raise ConnectionNotFound(
            f"no connection named {policy.connection!r}: connect one with {kinds} (or name "
            "the connection the policy's sync uses)"
        ) from None
    system = system_of(connection)
    check_policy(policy, system)
    connector = system.open(connections, connection, policy, retry)
    ctx = SyncContext(hub, connections, connection, policy, connector, system.preset)
    ctx.create_people_as()  # a refused or unknown person object fails here, not mid-run
    if clock is not None:
        ctx.clock = clock
    return ctx
