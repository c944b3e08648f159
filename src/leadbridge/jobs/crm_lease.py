"""One lease per CRM connection around every pull and push run, manual or scheduled.

`@leased` goes on the engine's entry points (`pull`, `push`). It is re-entrant within one task:
`push()` refreshes with `pull()` under the lease it already holds, and the runner may take the
lease once for a whole tick (`crm_lease(ctx)`) and call both inside. Another holder (a `serve`
process, a manual `leadbridge pull`) gets `LeaseHeld` with a message that says what is running.
While held, the lease is renewed on a heartbeat (jobs/lease.py), so an initial pull of several
hours keeps it, and a killed holder's lease is free at once.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from leadbridge.jobs.lease import held

if TYPE_CHECKING:
    from leadbridge.engine.sync.context import SyncContext

P = ParamSpec("P")
R = TypeVar("R")


def crm_lease_name(ctx: SyncContext) -> str:
    return f"crm-sync:{ctx.connection.id}"


@contextlib.asynccontextmanager
async def crm_lease(ctx: SyncContext) -> AsyncIterator[None]:
    """Hold the connection's CRM lease (or go on under the one this task already holds)."""
    async with held(
        ctx.hub,
        crm_lease_name(ctx),
        busy=f"a {ctx.label} sync of connection {ctx.connection.name!r} is already running",
        connection_id=ctx.connection.id,
    ):
        yield


def leased(
    func: Callable[Concatenate[SyncContext, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[SyncContext, P], Coroutine[Any, Any, R]]:
    """Run an engine entry point under the connection's CRM lease."""

    @functools.wraps(func)
    async def wrapper(ctx: SyncContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with crm_lease(ctx):
            return await func(ctx, *args, **kwargs)

    return wrapper
