"""The one async database layer: a writer connection behind a lock, readers beside it.

WAL lets the readers (see READERS for how many) see committed data while a write is in
progress; every write runs inside `transaction()` or `write()` so it either lands whole
or not at all. The WAL is copied back into the database file by a background checkpoint,
not by whichever commit happens to cross SQLite's auto-checkpoint threshold (that stalled
one reply in ~25 by ~12 ms on the benchmark database).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core import migrate

# Reader connections, each on its own thread. Measured on the benchmark database: two cut
# a lone question's overhead by ~10% (its history read and knowledge search overlap), but
# under a 1,000-chat burst the median answer came ~1.5 s later and peak memory rose ~15 MB
# (more threads contending for the GIL, another page cache). One, until that changes.
READERS = 1
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA wal_autocheckpoint=0",  # see `_after_write`
)
CHECKPOINT_EVERY = 100  # write transactions between background checkpoints

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")


def _in_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """BEGIN IMMEDIATE, the work, COMMIT — or ROLLBACK and re-raise; runs on the writer thread."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _checkpoint(path: Path) -> None:
    """Copy committed WAL frames into the database file without blocking anyone."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout=1000")
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        conn.close()


def _run(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    cur = conn.execute(sql, params)
    return cur.lastrowid if cur.lastrowid else cur.rowcount


def _run_many(conn: sqlite3.Connection, sql: str, rows: list[Params]) -> None:
    conn.executemany(sql, rows)


class Database:
    """Open with `await Database.open(path)`; share one instance through the app."""

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, *readers: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._writer = writer
        self._readers = readers
        self._reading = [0] * len(readers)
        self._lock = asyncio.Lock()
        self._writes = 0
        self._checkpointing: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path, *, run_migrations: bool = True) -> Database:
        """Apply pending migrations, then open the writer and the readers."""
        path = Path(path)
        if run_migrations:
            await asyncio.to_thread(migrate.upgrade, path)
        writer = await cls._connect(path)
        readers = [await cls._connect(path) for _ in range(READERS)]
        return cls(path, writer, *readers)

    @property
    def connections(self) -> tuple[aiosqlite.Connection, ...]:
        """The writer, then the readers (for tracing and per-connection pragmas in tests)."""
        return (self._writer, *self._readers)

    @staticmethod
    async def _connect(path: Path) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        return conn

    def _after_write(self) -> None:
        """Every CHECKPOINT_EVERY writes, start a PASSIVE checkpoint on another thread."""
        self._writes += 1
        if self._writes < CHECKPOINT_EVERY or self._checkpointing is not None:
            return
        self._writes = 0
        self._checkpointing = asyncio.get_running_loop().create_task(self._background_checkpoint())

    async def _background_checkpoint(self) -> None:
        try:
            await asyncio.to_thread(_checkpoint, self.path)
        except sqlite3.Error as exc:  # the next one retries; the WAL only grows meanwhile
            log.warning("background checkpoint failed: %s", exc)
        finally:
            self._checkpointing = None

    async def close(self) -> None:
        """Close every connection (idempotent); the last close checkpoints the WAL."""
        if self._checkpointing is not None:
            await self._checkpointing
        for conn in (*self._readers, self._writer):
            with suppress(ValueError):
                await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Serialise writers and wrap the block in BEGIN IMMEDIATE … COMMIT/ROLLBACK."""
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")
                self._after_write()

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` inside BEGIN IMMEDIATE … COMMIT as ONE job on the writer's thread.

        Same lock and all-or-nothing semantics as `transaction()`, but one thread hop
        instead of one per statement; `work` gets the plain sqlite3 connection and must
        not await (it runs on the database thread).
        """
        async with self._lock:
            result = await self._writer._execute(_in_transaction, self._writer._conn, work)
        self._after_write()
        return result

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run several reads as ONE job on the least busy reader (no statement left open)."""
        busy = self._reading
        i = busy.index(min(busy))
        reader = self._readers[i]
        busy[i] += 1
        try:
            return await reader._execute(work, reader._conn)
        finally:
            busy[i] -= 1

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One write in its own transaction; returns lastrowid (or rowcount for updates)."""
        return await self.write(lambda conn: _run(conn, sql, params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Many writes in one transaction."""
        batch = list(rows)
        await self.write(lambda conn: _run_many(conn, sql, batch))

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Read committed rows."""
        # execute and fetch in one job on the connection's thread: no statement stays open
        # between awaits, so another coroutine's read never inherits a stale WAL snapshot
        return await self.read(lambda conn: conn.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Read one committed row."""
        return await self.read(lambda conn: conn.execute(sql, params).fetchone())

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """First column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]
