"""With the starter pack, the questions families actually type find the dish first."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.db import Database
from knowledge.store import KnowledgeBase


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("ca kho", "Cá kho tộ"),
        ("cá kho", "Cá kho tộ"),
        ("Làm cá kho thế nào?", "Cá kho tộ"),
        ("braised fish", "Cá kho tộ"),
        ("CÁ KHO TỘ", "Cá kho tộ"),
        ("mam ngu qua", "Mâm ngũ quả ngày Tết"),
    ],
)
async def test_recipe_ranks_above_its_glossary_definition(
    tmp_path: Path, query: str, title: str
) -> None:
    db = await Database.open(tmp_path / "kb.db")
    try:
        kb = KnowledgeBase(db)
        assert await kb.load_starter_pack() > 60
        hits = await kb.search(query, None, limit=3)
        assert hits[0].entry.title == title
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    finally:
        await db.close()
