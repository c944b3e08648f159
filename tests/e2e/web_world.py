"""The web app in-process (TestClient) over a hub, with an account, a read and a write token;
with a CRM world, the policy and the runner (driven by `run_due(now)`, not by sleeping)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from leadbridge.hub.connections import Connections
from leadbridge.jobs.crm import CrmSchedule
from leadbridge.jobs.runner import EmbeddedRunner
from leadbridge.policy.crm import PolicyFile
from leadbridge.web.accounts import create_token, create_user, has_accounts
from leadbridge.web.app import create_app
from leadbridge.web.state import WebState

from .crm_world import FAST

PASSWORD = "correct horse battery staple"


@dataclass
class Web:
    client: TestClient
    state: WebState
    read: str
    write: str

    def api(self, method: str, path: str, token: str | None = "write", **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {self.write if token == 'write' else self.read}"
        return self.client.request(method, path, headers=headers, **kw)

    def login(self) -> str:
        """Sign in; the session's CSRF token (as the pages carry it)."""
        response = self.client.post(
            "/login", data={"username": "ann", "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        page = self.client.get("/tokens").text
        return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def make_web(connections: Connections, policy: PolicyFile | None = None) -> Web:
    runner = None
    if policy is not None:
        schedule = CrmSchedule(connections.hub, connections, policy, retry=FAST)
        runner = EmbeddedRunner(connections, crm=schedule)
    state = WebState(connections, policy=policy, runner=runner)
    if not has_accounts(connections.hub):
        create_user(connections.hub, "ann", PASSWORD)
    read = create_token(connections.hub, "ann", "reader", "read")
    write = create_token(connections.hub, "ann", "writer", "write")
    client = TestClient(
        create_app(state), base_url="http://127.0.0.1:8765", raise_server_exceptions=False
    )
    return Web(client, state, read, write)
