"""A question made only of common words still finds what it names.

Words in more entries than `TermStats.common_cap()` are too common to rank by with BM25
(knowledge/search.py ranks by rare terms only); such a question is answered by the
unranked fallback. Its contract, through the public `KnowledgeBase.search`: entries that
hold every word come first (the word in the title before the word in the body), then
entries holding some of them, and never another family's entries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.store.db import Database
from knowledge.store import KnowledgeBase
from tests.kb_support import kb_with_two_families

SOUP_ONLY = "Canh nấu với nước dùng ninh xương"
GREENS_ONLY = "Rau rửa sạch, để ráo rồi mới xào"


@dataclass
class CommonKB:
    db: Database
    kb: KnowledgeBase
    family_a: int
    family_b: int


@pytest.fixture
async def common(tmp_path: Path) -> AsyncIterator[CommonKB]:
    """Enough entries holding `canh` and enough holding `rau` that both words are common,
    and a few entries that hold both."""
    db, kb, family_a, family_b = await kb_with_two_families(tmp_path / "kb.db")
    try:
        fill = await kb.stats.common_cap() + 20
        report = await kb.import_records(
            [{"title": f"Ghi chép {i}", "body": SOUP_ONLY} for i in range(fill)]
            + [{"title": f"Mẹo {i}", "body": GREENS_ONLY} for i in range(fill)],
            None,
        )
        assert report.ok and len(report.imported) == 2 * fill
        await kb.add("Canh rau", "Canh rau ngót nấu tôm khô", family_id=None)
        await kb.add("Bữa tối thứ bảy", "Nấu canh với rau vườn, kho cá", family_id=None)
        await kb.add("Canh rau nhà A", "Nhà A nấu với rau đay", family_id=family_a)
        await kb.add("Canh rau nhà B", "Bí mật của nhà B", family_id=family_b)
        stats = await kb.stats.df(["canh", "rau"])
        cap = await kb.stats.common_cap()
        assert min(stats.values()) > cap, "the premise: both words are too common to rank by"
        yield CommonKB(db, kb, family_a, family_b)
    finally:
        await db.close()


def _titles(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.entry.title for h in hits]


async def test_entries_holding_every_common_word_come_first_title_before_body(
    common: CommonKB,
) -> None:
    hits = await common.kb.search("canh rau", None, limit=5)
    titles = _titles(hits)
    assert titles[:2] == ["Canh rau", "Bữa tối thứ bảy"], titles
    assert len(hits) == 5, "the rest of the limit is filled by entries holding some words"
    for hit in hits[2:]:
        assert hit.entry.body in (SOUP_ONLY, GREENS_ONLY), titles
    assert not {"Canh rau nhà A", "Canh rau nhà B"} & set(titles), "family entries leaked"
    # diacritics, case and the words around the topic do not change what is found
    typed = await common.kb.search("Làm CANH RAU thế nào?", None, limit=3)
    assert _titles(typed)[:2] == ["Canh rau", "Bữa tối thứ bảy"]


async def test_a_family_sees_its_own_entry_and_never_another_familys(common: CommonKB) -> None:
    hits = await common.kb.search("canh rau", common.family_a, limit=5)
    titles = _titles(hits)
    # every word: its own entry and the shared one in the title, then the one in the body
    assert set(titles[:2]) == {"Canh rau nhà A", "Canh rau"}, titles
    assert titles[2] == "Bữa tối thứ bảy", titles
    assert "Canh rau nhà B" not in titles
    other = _titles(await common.kb.search("canh rau", common.family_b, limit=5))
    assert "Canh rau nhà B" in other[:2] and "Canh rau nhà A" not in other, other
