"""One lease per CRM connection around every pull and push run, manual or scheduled.

`@leased` goes on the engine's entry points (`pull`, `push`). It is re-entrant within one task:
`push()` refreshes with `pull()` under the lease it already holds, and the runner may take the
lease once for a whole tick (`crm_lease(ctx)`) and call both inside. Another holder (a `serve`
process, a manual `leadbridge pull`) gets `LeaseHeld` with a message that says what is running.
While held, the lease is renewed in the background, so an initial pull of several hours keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from leadbridge.jobs.lease import Lease, LeaseHeld

if TYPE_CHECKING:
    from leadbridge.engine.crm.context import CrmContext

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger("leadbridge.runner")

_held: ContextVar[frozenset[str]] = ContextVar("leadbridge_crm_leases", default=frozenset())


def crm_lease_name(ctx: CrmContext) -> str:
    return f"crm-sync:{ctx.connection.id}"


async def _renew(lease: Lease) -> None:
    while True:
        await asyncio.sleep(lease.ttl.total_seconds() / 3)
        try:
            lease.renew()
        except Exception as exc:  # the next renewal may succeed; the run itself goes on
            log.warning("could not renew the lease %s: %s", lease.name, type(exc).__name__)


@contextlib.asynccontextmanager
async def crm_lease(ctx: CrmContext) -> AsyncIterator[None]:
    """Hold the connection's CRM lease (or go on under the one this task already holds)."""
    name = crm_lease_name(ctx)
    held = _held.get()
    if name in held:
        yield
        return
    lease = Lease(ctx.hub, name)
    if not lease.acquire():
        holder = lease.current_holder() or "another run"
        raise LeaseHeld(
            f"a Salesforce sync of connection {ctx.connection.name!r} is already running "
            f"(held by {holder}); try again when it has finished"
        )
    token = _held.set(held | {name})
    renewer = asyncio.create_task(_renew(lease))
    try:
        yield
    finally:
        renewer.cancel()
        _held.reset(token)
        lease.release()


def leased(
    func: Callable[Concatenate[CrmContext, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[CrmContext, P], Coroutine[Any, Any, R]]:
    """Run an engine entry point under the connection's CRM lease."""

    @functools.wraps(func)
    async def wrapper(ctx: CrmContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with crm_lease(ctx):
            return await func(ctx, *args, **kwargs)

    return wrapper
