"""Reads after writes under concurrency: no coroutine ever sees a stale snapshot."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from bot.app import Hearth
from bot.store import db as db_module
from bot.store.db import Database
from tests.support import RecordingOutbox, msg


async def test_two_hundred_first_messages_at_once(hearth: Hearth) -> None:
    outs = [RecordingOutbox() for _ in range(200)]
    await asyncio.gather(
        *(
            hearth.pipeline.handle(msg("/memory", chat=f"c{i}", user=f"u{i}"), outs[i])
            for i in range(200)
        )
    )
    assert all(any("Chưa có gì được ghi nhớ" in t for t in o.texts) for o in outs)
    stored = await hearth.services.db.scalar(
        "SELECT count(*) FROM messages WHERE status='answered'"
    )
    assert stored == 200


async def test_reader_sees_each_commit_while_others_read(hearth: Hearth) -> None:
    db = hearth.services.db

    async def writer(n: int) -> None:
        for i in range(n):
            await db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"k{i}", "v"))
            assert await db.scalar("SELECT value FROM meta WHERE key = ?", (f"k{i}",)) == "v"

    async def reader() -> None:
        for _ in range(200):
            await db.fetchall("SELECT * FROM meta")

    await asyncio.gather(writer(100), reader(), reader())


async def test_with_two_readers_a_quick_read_does_not_wait_for_a_slow_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "READERS", 2)
    db = await Database.open(tmp_path / "two.db")
    finished: list[str] = []

    def slow(conn: sqlite3.Connection) -> None:
        time.sleep(0.5)  # a long read holding its reader's thread
        conn.execute("SELECT 1").fetchone()
        finished.append("slow")

    async def quick() -> None:
        await db.scalar("SELECT count(*) FROM families")
        finished.append("quick")

    try:
        assert len(db.connections) == 4  # two writers (aiosqlite, batch), two readers
        await asyncio.gather(db.read(slow), quick())
    finally:
        await db.close()
    assert finished == ["quick", "slow"]
