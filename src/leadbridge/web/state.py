"""What the web app works with: the hub, the connections, the policy the scheduler runs, the
runner (for its heartbeat and to swap the policy), the jobs started from the web, and the OAuth
flows in progress (their `state` and PKCE verifier, kept in memory only)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.policy.crm import PolicyFile

if TYPE_CHECKING:
    from leadbridge.jobs.runner import EmbeddedRunner

OAUTH_FLOW_SECONDS = 900  # a consent page left open longer must be started again


@dataclass
class OAuthFlow:
    """One authorisation in progress: what the callback needs to finish it."""

    kind: str
    name: str
    base_url: str
    client_id: str
    client_secret: str
    verifier: str
    redirect_uri: str
    ca_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


@dataclass
class WebState:
    connections: Connections
    policy: PolicyFile | None = None
    policy_path: Path | None = None
    runner: EmbeddedRunner | None = None
    workers: bool = False  # jobs run on `leadbridge worker` processes (serve --no-jobs)
    secure_cookies: bool = False
    flows: dict[str, OAuthFlow] = field(default_factory=dict)  # state -> flow
    jobs: set[asyncio.Task[Any]] = field(default_factory=set)  # kept so they are not collected

    @property
    def hub(self) -> Hub:
        return self.connections.hub

    def take_flow(self, state: str) -> OAuthFlow | None:
        """The flow of a callback's `state` (each state is good once, for 15 minutes)."""
        now = time.monotonic()
        for key in [k for k, f in self.flows.items() if now - f.started > OAUTH_FLOW_SECONDS]:
            del self.flows[key]
        return self.flows.pop(state, None)
