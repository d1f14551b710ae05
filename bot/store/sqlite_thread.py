"""A stdlib sqlite3 connection that lives on its own thread, for work that runs as one job.

Hearth's hot paths (a message's arrival, an answer's record, a history read) run several
statements as ONE function on the database thread instead of one thread hop per statement.
aiosqlite offers no public way to run a function on its connection's thread, so these
functions run here, on a one-thread executor from the standard library; statement-at-a-time
work (`Database.transaction()`) uses aiosqlite's public API.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ThreadConnection:
    """One sqlite3 connection, used only from its one worker thread."""

    def __init__(self, executor: ThreadPoolExecutor, conn: sqlite3.Connection) -> None:
        self._executor = executor
        self._sqlite = conn

    @classmethod
    async def open(cls, path: Path, pragmas: Sequence[str]) -> ThreadConnection:
        """Connect on the worker thread (sqlite3 checks that every use is on it)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            for pragma in pragmas:
                conn.execute(pragma)
            return conn

        loop = asyncio.get_running_loop()
        return cls(executor, await loop.run_in_executor(executor, connect))

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(conn, *args)` on the connection's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(work, self._sqlite, *args)
        )

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """One statement (a pragma, a setting) with nothing to read back."""
        await self.run(lambda conn: conn.execute(sql, params).fetchall())

    async def set_trace_callback(self, handler: Callable[[str], object] | None) -> None:
        """Every statement this connection runs is passed to `handler` (tests count them)."""
        await self.run(lambda conn: conn.set_trace_callback(handler))

    async def close(self) -> None:
        """Close the connection on its thread, then let the thread go."""
        try:
            await self.run(lambda conn: conn.close())
        finally:
            self._executor.shutdown(wait=False)
