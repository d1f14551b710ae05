"""Across languages without embeddings: the lexicon expands the question, the family first.

English questions from the grandchildren find the family's Vietnamese entries (and a
Vietnamese question finds an entry written in English); what the question asks to leave
out is not searched for; a family entry outranks the starter pack's version of its dish.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.db import Database
from bot.store.families import FamilyStore
from knowledge.store import KnowledgeBase
from tests.kb_support import dev_family_records
from tests.test_context_relevance import DevKB
from tests.test_kb_vectors import ScriptedEmbedder


@pytest.fixture
async def family_kb(tmp_path: Path) -> AsyncIterator[tuple[KnowledgeBase, int]]:
    db = await Database.open(tmp_path / "kb.db")
    kb = KnowledgeBase(db)
    await kb.load_starter_pack()
    fam = await FamilyStore(db).ensure("telegram", "-7", "group")
    assert (await kb.import_records(dev_family_records(), fam.id)).ok
    await kb.add(
        "Grandma's lemongrass chicken",
        "Chicken thighs stir-fried with chopped lemongrass, shallots and fish sauce.",
        family_id=fam.id,
        language="en",
    )
    yield kb, fam.id
    await db.close()


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("square sticky rice cake", "Bánh chưng ngày Tết"),
        ("braised pork with eggs for Tet", "Thịt kho hột vịt"),
        ("ginger chicken", "Gà kho gừng"),
        ("crab noodle soup", "Bún riêu cua nhà ngoại"),
        ("avocado smoothie for the baby", "Sinh tố bơ cho bé"),
        ("what to avoid during pregnancy", "Kiêng cữ khi mang thai"),
        ("gà xào sả", "Grandma's lemongrass chicken"),
    ],
)
async def test_a_question_in_one_language_finds_the_family_entry_in_the_other(
    family_kb: tuple[KnowledgeBase, int], question: str, title: str
) -> None:
    kb, fam = family_kb
    hits = await kb.search(question, fam, limit=5)
    assert title in [h.entry.title for h in hits], [h.entry.title for h in hits]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_what_the_question_leaves_out_is_not_searched_for(
    family_kb: tuple[KnowledgeBase, int],
) -> None:
    kb, fam = family_kb
    plain = [h.entry.id for h in await kb.search("cá chiên", fam)]
    for question in ("cá chiên không ớt", "cá chiên bỏ ớt", "cá chiên không có ớt nhé"):
        assert [h.entry.id for h in await kb.search(question, fam)] == plain


async def test_the_vector_path_still_adds_when_the_endpoint_embeds(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "kb.db")
    try:
        kb = KnowledgeBase(db, ScriptedEmbedder())
        che = await kb.add("Chè bưởi", "Cùi bưởi, đậu xanh, nước cốt dừa", family_id=None)
        hits = await kb.search("món tráng miệng", None)
        assert hits[0].entry.id == che.id
        assert hits[0].cosine is not None and hits[0].cosine > 0.5
    finally:
        await db.close()


async def test_the_family_version_is_found_by_the_shared_entrys_name(tmp_path: Path) -> None:
    """An English alias finds the starter's dish; the family's own version, which shares no
    word with the question, is found by that dish's name and sent instead of it."""
    db = await Database.open(tmp_path / "kb.db")
    try:
        kb = KnowledgeBase(db)
        fam = await FamilyStore(db).ensure("telegram", "-8", "group")
        steps = "ướp nước màu, nước mắm, đường, tiêu; xếp vào tộ đất, kho lửa nhỏ đến khi sệt."
        await kb.add(
            "Cá kho tộ", "Cá basa " + steps, family_id=None, aliases=["Braised fish in clay pot"]
        )
        mine = await kb.add("Cá rô kho tộ", "Cá rô đồng làm sạch, " + steps, family_id=fam.id)
        hits = await kb.search("braised fish in clay pot", fam.id, limit=3)
        assert hits[0].entry.id == mine.id
        _, result = await DevKB(kb, fam.id).context("braised fish in clay pot")
        assert [e.id for e in result.sources] == [mine.id]
    finally:
        await db.close()
