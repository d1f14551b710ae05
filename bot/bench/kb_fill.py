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

from bot.core.db import Database


def kb_missing_reason() -> str | None:
    """None when the knowledge base can be used; else why not."""
    try:
        from knowledge.store import KnowledgeBase
    except ImportError as exc:
        return f"knowledge base not available ({exc})"
    if not hasattr(KnowledgeBase, "import_records"):
        return "KnowledgeBase has no import_records bulk path"
    return None


async def _fill(path: Path, records: list[dict[str, Any]]) -> int:
    from knowledge.store import KnowledgeBase

    by_family: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        body = dict(rec)
        by_family[body.pop("family_id")].append(body)
    db = await Database.open(path)
    try:
        kb = KnowledgeBase(db)
        added = 0
        for family_id, group in by_family.items():
            report = await kb.import_records(group, family_id)
            errors = getattr(report, "errors", [])
            if errors:
                raise RuntimeError(f"synthetic entries rejected: {errors[:3]}")
            added += len(group) - int(getattr(report, "skipped", 0))
        await db.execute("ANALYZE")
        return added
    finally:
        await db.close()


def fill_entries(path: Path, records: list[dict[str, Any]]) -> tuple[int, float]:
    """Import the records (global and family-scoped); returns (entries added, seconds)."""
    began = time.perf_counter()
    added = asyncio.run(_fill(path, records))
    return added, time.perf_counter() - began
