"""An Apollo sandbox on a real loopback socket, a hub, a connected team, seeded reps."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from leadbridge.engine.leadpush.run import LeadPush, RunReport
from leadbridge.engine.systems.apollo_connect import connect_with_key
from leadbridge.hub.connections import ConnectionInfo, Connections
from leadbridge.hub.db import Hub
from leadbridge.hub.imports import import_companies, import_users
from leadbridge.hub.tables import Company, RecordLink, utcnow
from leadbridge.jobs.tasks import lead_push_task
from leadbridge.sandbox.server import ServedApp

STAGES = ["pending", "target", "education", "solution", "evaluation", "ready_to_buy"]
REPS = ["ann@team.example", "ben@team.example", "cy@team.example"]


@dataclass
class World:
    sandbox: Any
    url: str
    hub: Hub
    connections: Connections
    tmp: Path
    apollo_users: dict[str, str]  # rep e-mail -> Apollo user id

    @property
    def connection(self) -> ConnectionInfo:
        return self.connections.get("apollo")

    def push(self, **kw: Any) -> LeadPush:
        return LeadPush(self.hub, self.connections, self.connection, **kw)

    def run(self, **kw: Any) -> RunReport:
        """A run as the CLI and the scheduler make it: under the connection's lease."""
        if kw:
            return asyncio.run(self.push().run(**kw))
        return asyncio.run(lead_push_task(self.push()))

    def companies(self, rows: list[dict[str, Any]], age: timedelta = timedelta(hours=1)) -> None:
        """Import company rows via CSV (the real path), then age them past the settle buffer."""
        path = self.tmp / f"companies-{len(list(self.tmp.iterdir()))}.csv"
        columns = ["name", "domain", "icp_fit", "stage", "quarantine", "customer", "owner"]
        lines = [",".join(columns)]
        for r in rows:
            lines.append(",".join(str(r.get(c, "")) for c in columns))
        path.write_text("\n".join(lines) + "\n")
        report = import_companies(self.hub, path, STAGES)
        assert not report.errors, report.errors
        self.age(age)

    def age(self, age: timedelta) -> None:
        """Every lead was last modified `age` ago, and what was synced before that was synced
        `age` earlier too (time moves for the links as well)."""
        with self.hub.session() as s:
            s.execute(update(Company).values(updated_at=utcnow() - age))
            for link in s.scalars(select(RecordLink).where(RecordLink.last_synced_at.is_not(None))):
                assert link.last_synced_at is not None
                link.last_synced_at -= age

    def accounts(self) -> list[dict[str, Any]]:
        return list(self.sandbox.accounts())


def lead(domain: str, **kw: Any) -> dict[str, Any]:
    row = {
        "name": domain.split(".")[0].title(),
        "domain": domain,
        "icp_fit": "strong",
        "stage": "evaluation",
        "quarantine": "active",
        "customer": "false",
        "owner": REPS[0],
    }
    row.update(kw)
    return row


@pytest.fixture
def apollo_sandbox() -> Any:
    from leadbridge.sandbox.apollo import ApolloSandbox

    sandbox = ApolloSandbox(seed=3)
    sandbox.knobs.set_rate_limits(minute=100_000, hour=1_000_000, day=10_000_000)
    return sandbox


@pytest.fixture
def world(
    apollo_sandbox: Any, hub: Hub, connections: Connections, tmp_path: Path
) -> Iterator[World]:
    users = {
        email: apollo_sandbox.add_user(email=email, first_name=email[:3].title(), last_name="Rep")[
            "id"
        ]
        for email in REPS
    }
    (tmp_path / "users.csv").write_text("email\n" + "\n".join(REPS) + "\n")
    import_users(hub, tmp_path / "users.csv")
    data = tmp_path / "data"
    data.mkdir()
    with ServedApp(apollo_sandbox.app) as served:
        key = apollo_sandbox.issue_api_key(master=True)
        asyncio.run(connect_with_key(connections, name="apollo", base_url=served.url, key=key))
        yield World(apollo_sandbox, served.url, hub, connections, data, users)


@pytest.fixture
def crm(hub: Hub, connections: Connections) -> Iterator[Any]:
    """A Salesforce sandbox over HTTPS, connected through OAuth, setup window ended."""
    from leadbridge.policy.crm import CrmSync
    from leadbridge.sandbox.salesforce import SalesforceSandbox

    from .crm_world import CrmWorld, connect

    sandbox = SalesforceSandbox(seed=7)
    cert, key, ca = sandbox.tls_files()
    with ServedApp(sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sandbox.set_base_url(served.url)
        connect((sandbox, served.url, str(ca)), hub, connections)
        world = CrmWorld(sandbox, served.url, hub, connections, CrmSync())
        yield world


@pytest.fixture(params=["salesforce", "hubspot"])
def twin(request: pytest.FixtureRequest, hub: Hub, connections: Connections) -> Iterator[Any]:
    """The same scenario against each CRM's sandbox, connected, setup window still open
    (crm_twins.py: the helpers both worlds share)."""
    from .crm_twins import hubspot_world, salesforce_world

    make = salesforce_world if request.param == "salesforce" else hubspot_world
    yield from make(hub, connections)
