"""A committed write is visible to the writer's next read, however many reads are in flight.

Found by `hearth bench`: with many chats at once, a family or member row that was just
inserted was sometimes not found by the read right after it (the shared reader connection
kept an older snapshot while another task's statement was still open on it).
"""

from __future__ import annotations

import asyncio

from bot.app import Hearth


async def test_read_after_write_under_concurrent_reads(hearth: Hearth) -> None:
    db = hearth.services.db
    await db.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)", [(f"old-{i}", "x" * 100) for i in range(500)]
    )
    missing: list[int] = []

    async def writer(i: int) -> None:
        await db.execute("INSERT INTO meta (key, value) VALUES (?, 'new')", (f"new-{i}",))
        if await db.fetchone("SELECT value FROM meta WHERE key = ?", (f"new-{i}",)) is None:
            missing.append(i)

    async def reader() -> None:
        await db.fetchone("SELECT key FROM meta ORDER BY value, key")
        await db.fetchall("SELECT key FROM meta WHERE key LIKE 'old-1%'")

    jobs = []
    for i in range(300):
        jobs += [writer(i), reader(), reader()]
    await asyncio.gather(*jobs)
    assert missing == []
