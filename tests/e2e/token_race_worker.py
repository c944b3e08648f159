"""One side of the token race (test_token_race.py), in its own process, on the hub and key of
its environment:

    python token_race_worker.py job SECONDS    the scheduled job: `LeadPush.run()` again and
                                               again (it marks the connection auth_failed when
                                               Apollo refuses the credentials)
    python token_race_worker.py sync SECONDS   manual `users sync` commands: a new client each

Prints one JSON line: {"runs", "auth_failures", "failures", "refreshes", "adopted"}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from leadbridge.cli.context import Context
from leadbridge.connectors.errors import AuthError
from leadbridge.connectors.oauth import RefreshingAuth
from leadbridge.engine.leadpush.run import LeadPush


async def race(mode: str, seconds: float) -> dict[str, Any]:
    ctx = Context()
    push = LeadPush(ctx.hub, ctx.connections, ctx.connections.get("apollo"))
    stats: dict[str, Any] = {"runs": 0, "auth_failures": 0, "failures": [], "refreshes": 0}
    stats["adopted"] = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stats["runs"] += 1
        if mode == "job":
            report = await push.run()
            if report.status != "succeeded":
                stats["failures"].append(report.message)
                stats["auth_failures"] += "rejected the credentials" in (report.message or "")
            continue
        opened = await push.open()
        client = opened.connector.client  # type: ignore[attr-defined]
        try:
            await push.sync_users(opened)
        except AuthError as exc:
            stats["auth_failures"] += 1
            stats["failures"].append(str(exc))
        finally:
            auth = client.api.http.auth
            assert isinstance(auth, RefreshingAuth)
            stats["refreshes"] += auth.session.refreshes
            stats["adopted"] += auth.session.adopted
            await client.aclose()
    return stats


if __name__ == "__main__":
    print(json.dumps(asyncio.run(race(sys.argv[1], float(sys.argv[2])))))
