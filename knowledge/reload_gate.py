"""When an in-memory copy of database rows must be read again.

The vector index and the glossary keep rows in memory that every question needs. Reading
them on every question cost a database round trip; never reading them again would miss
`hearth kb` writes from another process. So: at once after this process's own write, at
most once per interval otherwise, and once for all the questions waiting meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class ReloadGate:
    """`await gate.ensure(reload)` runs `reload` only when the copy may be out of date."""

    def __init__(self, interval_s: Callable[[], float]) -> None:
        self._interval_s = interval_s  # read at each check (tests shorten it)
        self._checked = -float("inf")
        self._stale = True
        self._loading = asyncio.Lock()

    def stale(self) -> None:
        """This process wrote: the next `ensure` reloads whatever the interval says."""
        self._stale = True

    def _fresh(self) -> bool:
        return not self._stale and time.monotonic() - self._checked < self._interval_s()

    async def ensure(self, reload: Callable[[], Awaitable[None]]) -> None:
        """Reload if out of date; callers arriving during a reload wait for that one."""
        if self._fresh():
            return
        async with self._loading:
            if self._fresh():
                return
            self._stale = False  # a write landing during the reload sets it again
            await reload()
            self._checked = time.monotonic()
