"""Stopping background tasks at shutdown, one way for every owner of such tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

STOP_WAIT_S = 5.0  # how long cancelled tasks get to unwind


async def finish_or_cancel(tasks: Iterable[asyncio.Task[Any]], grace_s: float | None) -> int:
    """Give running tasks `grace_s` to finish, cancel the rest and let them unwind (at most
    STOP_WAIT_S), so shutdown can neither hang on a slow task nor leave one running.
    Returns how many were cancelled; the caller says what that means for its users."""
    running = set(tasks)
    if not running:
        return 0
    _, late = await asyncio.wait(running, timeout=grace_s)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late, timeout=STOP_WAIT_S)
        for task in late:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: it ended on its own while being cancelled
    return len(late)
