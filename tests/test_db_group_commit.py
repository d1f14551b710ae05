"""Writes that queue together share a transaction, and each stays all-or-nothing on its own."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.db import MAX_GROUP, Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "group.db")
    yield database
    await database.close()


def put(key: str, value: str = "v"):  # type: ignore[no-untyped-def]
    def work(conn: sqlite3.Connection) -> int:
        cur = conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
        return int(cur.lastrowid or 0)

    return work


async def begins(db: Database) -> list[str]:
    seen: list[str] = []
    for conn in db.connections[:2]:  # both writers: transaction()'s and write()'s
        await conn.set_trace_callback(seen.append)
    return seen


async def test_concurrent_writes_share_transactions_and_each_gets_its_result(db: Database) -> None:
    seen = await begins(db)
    rowids = await asyncio.gather(*(db.write(put(f"k{i}")) for i in range(200)))
    transactions = sum(sql == "BEGIN IMMEDIATE" for sql in seen)
    assert 200 / MAX_GROUP <= transactions < 20  # one each would be 200
    assert len(set(rowids)) == 200
    rows = await db.fetchall("SELECT rowid, key FROM meta WHERE key LIKE 'k%'")
    assert {r["key"]: r["rowid"] for r in rows} == {f"k{i}": rowids[i] for i in range(200)}


async def test_a_failing_write_fails_alone_and_leaves_nothing(db: Database) -> None:
    def half_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('half', 'written')")
        conn.execute("INSERT INTO meta (key, value) VALUES ('k1', 'duplicate')")  # key exists

    await db.write(put("k1"))
    results = await asyncio.gather(
        db.write(put("before")),
        db.write(half_then_fail),
        db.write(put("after")),
        return_exceptions=True,
    )
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert all(isinstance(r, int) for r in (results[0], results[2]))
    keys = {r["key"] for r in await db.fetchall("SELECT key FROM meta")}
    assert {"k1", "before", "after"} <= keys and "half" not in keys


async def test_a_lone_write_is_not_wrapped_in_a_savepoint(db: Database) -> None:
    seen = await begins(db)
    await db.write(put("alone"))
    assert [s for s in seen if s.split()[0] in ("BEGIN", "SAVEPOINT", "COMMIT")] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]


async def test_a_write_cancelled_while_queued_never_runs(db: Database) -> None:
    ran: list[str] = []

    def slow(conn: sqlite3.Connection) -> None:
        import time

        time.sleep(0.2)  # holds the writer thread while the next two queue
        ran.append("slow")

    def noted(key: str):  # type: ignore[no-untyped-def]
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, 'v')", (key,))
            ran.append(key)

        return work

    first = asyncio.ensure_future(db.write(slow))
    await asyncio.sleep(0.05)
    dropped = asyncio.ensure_future(db.write(noted("dropped")))
    kept = asyncio.ensure_future(db.write(noted("kept")))
    await asyncio.sleep(0)
    dropped.cancel()
    await asyncio.gather(first, kept)
    assert ran == ["slow", "kept"]
    assert await db.scalar("SELECT count(*) FROM meta WHERE key = 'dropped'") == 0


async def test_close_waits_for_queued_writes(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "close.db")
    pending = [asyncio.ensure_future(database.write(put(f"q{i}"))) for i in range(30)]
    await asyncio.sleep(0)
    await database.close()
    assert all(p.done() and not p.cancelled() for p in pending)
    reopened = await Database.open(tmp_path / "close.db")
    try:
        assert await reopened.scalar("SELECT count(*) FROM meta WHERE key LIKE 'q%'") == 30
    finally:
        await reopened.close()
