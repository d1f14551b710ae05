"""The one async database layer: writers behind one lock, readers beside them.

`transaction()` hands out an aiosqlite connection (statement by statement, its public
API); `write(work)` and `read(work)` run a whole function as one job on a connection of
its own thread (bot/store/sqlite_thread.py). Both writers take the same lock.

WAL lets the readers (see READERS for how many) see committed data while a write is in
progress; every write runs inside `transaction()` or `write()` so it either lands whole
or not at all. The WAL is copied back into the database file by a background checkpoint,
not by whichever commit happens to cross SQLite's auto-checkpoint threshold (that stalled
one reply in ~25 by ~12 ms on the benchmark database).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.store import migrate
from bot.store.sqlite_thread import ThreadConnection

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
# Writes that queued while another was on the writer thread go together, in one
# transaction (each in its own savepoint): under a burst every arrival, answer and delivery
# otherwise paid its own thread hop, BEGIN and COMMIT. A lone write goes alone, at once.
MAX_GROUP = 64

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


Outcome = tuple[bool, Any]  # (True, result) or (False, the exception the work raised)


def _each_in_savepoint(
    conn: sqlite3.Connection, works: list[Callable[[sqlite3.Connection], Any]]
) -> list[Outcome]:
    """Several writers' work in ONE transaction, each all-or-nothing on its own: a work that
    raises is rolled back to its savepoint and its exception handed to its caller alone."""
    out: list[Outcome] = []
    for work in works:
        conn.execute("SAVEPOINT w")
        try:
            result = work(conn)
        except Exception as exc:  # this caller's failure; the others still commit
            conn.execute("ROLLBACK TO w")
            conn.execute("RELEASE w")
            out.append((False, exc))
        else:
            conn.execute("RELEASE w")
            out.append((True, result))
    return out


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
        self,
        path: Path,
        writer: aiosqlite.Connection,
        batch_writer: ThreadConnection,
        *readers: ThreadConnection,
    ) -> None:
        self.path = path
        self._writer = writer
        self._batch_writer = batch_writer
        self._readers = readers
        self._reading = [0] * len(readers)
        self._lock = asyncio.Lock()
        self._writes = 0
        self._checkpointing: asyncio.Task[None] | None = None
        self._queued: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._writing: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path, *, run_migrations: bool = True) -> Database:
        """Apply pending migrations, then open the writer and the readers."""
        path = Path(path)
        if run_migrations:
            await asyncio.to_thread(migrate.upgrade, path)
        writer = await cls._connect(path)
        batch_writer = await ThreadConnection.open(path, PRAGMAS)
        readers = [await ThreadConnection.open(path, PRAGMAS) for _ in range(READERS)]
        return cls(path, writer, batch_writer, *readers)

    @property
    def connections(self) -> tuple[aiosqlite.Connection | ThreadConnection, ...]:
        """The writers, then the readers (for tracing and per-connection pragmas in tests)."""
        return (self._writer, self._batch_writer, *self._readers)

    @staticmethod
    async def _connect(path: Path) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        return conn

    def _after_write(self, writes: int = 1) -> None:
        """Every CHECKPOINT_EVERY writes, start a PASSIVE checkpoint on another thread."""
        self._writes += writes
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
        if self._writing is not None:
            await self._writing  # writes already queued still commit
        if self._checkpointing is not None:
            await self._checkpointing
        for reader in self._readers:
            await reader.close()
        await self._batch_writer.close()
        with suppress(ValueError):
            await self._writer.close()

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
        """Run `work` inside BEGIN IMMEDIATE … COMMIT on the writer's thread.

        Same lock and all-or-nothing semantics as `transaction()`, but one thread hop
        instead of one per statement; `work` gets the plain sqlite3 connection and must
        not await (it runs on the database thread). Writes that queue meanwhile share the
        next transaction (MAX_GROUP), each in a savepoint: one's failure is its own, and
        none returns before its transaction committed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queued.append((work, future))
        if self._writing is None:
            self._writing = loop.create_task(self._write_queued(), name="db-writes")
        return await future

    async def _write_queued(self) -> None:
        """Run what queued, a group per transaction, until nothing is left."""
        try:
            async with self._lock:
                while self._queued:
                    group, self._queued = self._queued[:MAX_GROUP], self._queued[MAX_GROUP:]
                    live = [(w, f) for w, f in group if not f.cancelled()]
                    if live:
                        await self._write_group(live)
        finally:
            self._writing = None
            if self._queued:  # left by a cancelled drain: nobody may wait forever
                for _, future in self._queued:
                    future.cancel()
                self._queued = []

    async def _write_group(
        self, live: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]]
    ) -> None:
        works = [work for work, _ in live]
        try:
            if len(works) == 1:
                result = await self._batch_writer.run(_in_transaction, works[0])
                outcomes: list[Outcome] = [(True, result)]
            else:
                outcomes = await self._batch_writer.run(
                    _in_transaction, functools.partial(_each_in_savepoint, works=works)
                )
        except Exception as exc:  # BEGIN or COMMIT failed, or the lone work did
            for _, future in live:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for _, future in live:
                future.cancel()
            raise
        self._after_write(len(works))
        for (_, future), (ok, value) in zip(live, outcomes, strict=True):
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run several reads as ONE job on the least busy reader (no statement left open)."""
        busy = self._reading
        i = busy.index(min(busy))
        reader = self._readers[i]
        busy[i] += 1
        try:
            return await reader.run(work)
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

    async def fetchall_packed(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Read committed rows as dicts, fetched in one step (see `packed_rows`)."""
        return await self.read(lambda conn: packed_rows(conn, sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Read one committed row."""
        return await self.read(lambda conn: conn.execute(sql, params).fetchone())

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        """First column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


_PACKED: dict[str, str] = {}  # a SELECT's text → the SELECT that packs its rows


def packed_rows(conn: sqlite3.Connection, sql: str, params: Params = ()) -> list[dict[str, Any]]:
    """The rows of a SELECT as dicts, carried out of SQLite as one JSON array.

    Why: the sqlite3 module lets go of the GIL for every row it steps and must take it back
    before it builds the row; while the event loop is busy, each take-back waits for the
    loop's thread to yield (up to the switch interval). Measured with a busy loop thread:
    60 history rows 5.5-6.8 ms one by one, 0.8-1.4 ms packed (0.05 ms either way when the
    loop is idle). For reads on the hot path that return many rows; text, numbers and NULL
    only (JSON cannot hold a BLOB). Row order is the SELECT's own.
    """
    packing = _PACKED.get(sql)
    if packing is None:
        probe = conn.execute(f"SELECT * FROM ({sql}) LIMIT 0", params)
        pairs = ", ".join(f"'{d[0]}', \"{d[0]}\"" for d in probe.description)
        if len(_PACKED) >= 1024:
            _PACKED.clear()  # SQL texts are few and fixed; this only bounds a surprise
        packing = _PACKED[sql] = f"SELECT json_group_array(json_object({pairs})) FROM ({sql})"
    (packed,) = conn.execute(packing, params).fetchone()
    rows: list[dict[str, Any]] = json.loads(packed)
    return rows
