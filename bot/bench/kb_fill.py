"""Knowledge entries for the synthetic database, through the knowledge base's own bulk path.

Going through `KnowledgeBase.import_records` keeps the FTS index, the typo variants and
the revisions exactly as a real import leaves them.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.store.db import Database
from knowledge.store import KnowledgeBase

# Records per import: one import is one transaction, and 80,000 entries in one would grow
# the write-ahead log past 3 GB (and slow every page read) before any checkpoint.
CHUNK = 2_000


async def _fill(path: Path, records: list[dict[str, Any]]) -> int:
    by_family: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        body = dict(rec)
        by_family[body.pop("family_id")].append(body)
    db = await Database.open(path)
    try:
        kb = KnowledgeBase(db)
        added = 0
        for family_id, group in by_family.items():
            for start in range(0, len(group), CHUNK):
                chunk = group[start : start + CHUNK]
                report = await kb.import_records(chunk, family_id)
                if report.errors:
                    raise RuntimeError(f"synthetic entries rejected: {report.errors[:3]}")
                added += len(chunk) - report.skipped
        await db.execute("ANALYZE")
        return added
    finally:
        await db.close()


def fill_entries(path: Path, records: list[dict[str, Any]]) -> tuple[int, float]:
    """Import the records (global and family-scoped); returns (entries added, seconds)."""
    began = time.perf_counter()
    added = asyncio.run(_fill(path, records))
    return added, time.perf_counter() - began
