"""The model-call log (`llm_calls`): noted in memory, written with the answer they served.

Every chat answer used to spend a transaction of its own on its `llm_calls` row just
before the transaction that records the answer (~0.7 ms of the ~8 ms Hearth spends on a
question). The row now rides in the answer's transaction. Calls no answer follows at once
(query embeddings, summaries, a call whose answer failed) are written by a flush at most
`FLUSH_S` later, and at shutdown; a crash loses at most that second of call statistics,
never a message or an answer.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.store.db import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

FLUSH_S = 1.0
MAX_PENDING = 10_000  # if the database stays unwritable, the oldest statistics go first
INSERT = (
    "INSERT INTO llm_calls (family_id, endpoint, model, purpose, ok, error, latency_ms,"
    " prompt_tokens, completion_tokens, created_at)"
    # a family erased (/deletefamily) since the call: the row stays, anonymous, as erasure
    # leaves the rows already written
    " VALUES ((SELECT id FROM families WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(call: Any, at: str) -> tuple[Any, ...]:
    return (
        call.family_id,
        call.endpoint,
        call.model,
        call.purpose,
        int(call.ok),
        call.error,
        call.latency_ms,
        call.prompt_tokens,
        call.completion_tokens,
        at,
    )


def _now() -> str:
    """The schema's own `created_at` format, taken when the call ended."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class CallLog:
    """Pending `llm_calls` rows of this process, and the writes that carry them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[Any, ...]] = []
        self._flush: asyncio.Task[None] | None = None
        self._sleeping = False

    async def note(self, call: Any) -> None:
        """The model client's `on_call`: keep the row (with its time) for the next write."""
        self._pending.append(_row(call, _now()))
        if len(self._pending) > MAX_PENDING:
            del self._pending[: len(self._pending) - MAX_PENDING]
            log.warning("model-call statistics are piling up unwritten; dropping the oldest")
        if self._flush is None:
            self._flush = asyncio.get_running_loop().create_task(self._flush_soon())

    async def write_with(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`db.write(work)` with the pending rows in the same transaction (kept if it fails)."""
        rows, self._pending = self._pending, []

        def both(conn: sqlite3.Connection) -> T:
            result = work(conn)
            if rows:
                conn.executemany(INSERT, rows)
            return result

        try:
            return await self.db.write(both)
        except BaseException:
            self._pending[:0] = rows
            raise

    async def flush(self) -> None:
        """Write whatever is pending now."""
        if self._pending:
            await self.write_with(lambda _conn: None)

    async def _flush_soon(self) -> None:
        try:
            self._sleeping = True
            try:
                await asyncio.sleep(FLUSH_S)
            finally:
                self._sleeping = False
            await self.flush()
        except Exception:
            log.warning("could not write model-call statistics; will retry", exc_info=True)
        finally:
            self._flush = None
        if self._pending and self._flush is None:
            self._flush = asyncio.get_running_loop().create_task(self._flush_soon())

    async def aclose(self) -> None:
        """Stop the timer and write the rest (before the database closes)."""
        while (task := self._flush) is not None:  # a flush that fails schedules the next
            if self._sleeping:  # never cut a write short: it may commit after all
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if self._flush is task:
                self._flush = None
        try:
            await self.flush()
        except Exception:  # the database still has to close: say what is lost, go on
            log.warning(
                "%d model-call rows could not be written", len(self._pending), exc_info=True
            )
