"""Reads after writes under concurrency: no coroutine ever sees a stale snapshot."""

from __future__ import annotations

import asyncio

from bot.app import Hearth
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
