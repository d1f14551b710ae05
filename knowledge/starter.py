"""The starter knowledge pack shipped inside the distribution (knowledge/packs/starter.jsonl).

It is loaded as global entries the first time `hearth run` or `hearth chat` opens a
database, once: the `meta` table records it, so an admin's later removals stick.
"""

from __future__ import annotations

import asyncio
import json
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from knowledge.parts import KBParts
from knowledge.rows import Author
from knowledge.transfer import import_records

log = logging.getLogger(__name__)

META_KEY = "starter_pack_loaded"
PACK_AUTHOR = "Hearth"


def starter_pack_text() -> str | None:
    """The shipped pack's text, or None while no pack ships."""
    item = resources.files("knowledge.packs").joinpath("starter.jsonl")
    return item.read_text(encoding="utf-8") if item.is_file() else None


async def load_starter_pack(kb: KBParts, path: Path | None = None) -> int:
    """Import the starter pack as global entries unless this database already had it."""
    if await kb.db.scalar("SELECT value FROM meta WHERE key = ?", (META_KEY,)) is not None:
        return 0
    if path is not None:
        text: str | None = await asyncio.to_thread(path.read_text, encoding="utf-8")
    else:
        text = starter_pack_text()
    if text is None:
        return 0
    records: list[tuple[str, Any]] = []
    for no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append((f"line {no}", json.loads(line)))
            except json.JSONDecodeError as exc:
                log.warning("starter pack line %d is not JSON: %s", no, exc.msg)
    report = await import_records(kb, records, None, Author(PACK_AUTHOR), source="starter")
    for where, reason in report.errors:
        log.warning("starter pack %s skipped: %s", where, reason)
    await kb.db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        (META_KEY, str(len(report.imported))),
    )
    return len(report.imported)
