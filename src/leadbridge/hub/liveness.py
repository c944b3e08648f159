"""Who is running a job, and whether that process still exists.

A holder is `host:pid:started` (the process's start time in ms): on the same host a dead pid, or
a pid reused by a newer process, means the holder is gone at once, without waiting for its lease
to expire. A holder on another host is judged by its lease's heartbeat alone.
"""

from __future__ import annotations

import functools
import os
import socket

import psutil


@functools.cache
def process_holder() -> str:
    """This process's holder id (constant for its lifetime)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_started_ms(os.getpid())}"


def _started_ms(pid: int) -> int:
    return int(psutil.Process(pid).create_time() * 1000)


def parse(holder: str) -> tuple[str, int, int] | None:
    host, _, rest = holder.rpartition(":")
    host, _, pid = host.rpartition(":")
    if not host or not pid.isdigit() or not rest.isdigit():
        return None
    return host, int(pid), int(rest)


def dead_here(holder: str | None) -> bool:
    """True only when the holder is a process of this host that no longer exists."""
    parsed = parse(holder or "")
    if parsed is None or parsed[0] != socket.gethostname():
        return False
    _, pid, started = parsed
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # killed, not yet reaped by its parent
            return True
        return int(process.create_time() * 1000) != started  # the pid now is a newer process
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return True
    except psutil.Error:  # not ours to inspect: assume alive, the heartbeat decides
        return False
