"""The in-memory glossary: scope, shadowing, and every kind of write seen at the next question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import knowledge.glossary as glossary
from knowledge.rows import Author
from knowledge.store import KnowledgeBase
from tests.kb_support import kb_with_two_families, open_kb


@pytest.fixture
async def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    db, kb, a, b = await kb_with_two_families(tmp_path / "kb.db")
    yield db, kb, a, b
    await db.close()


async def terms(kb: KnowledgeBase, text: str, fam: int | None) -> list[str]:
    return [e.title for e in await kb.glossary_for(text, fam)]


async def test_terms_in_order_of_mention_and_aliases_count(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, _ = env
    await kb.add("Kho", "Nấu liu riu với nước màu", family_id=None, tags=["term"])
    await kb.add(
        "Cá kho", "Cá kho tộ", family_id=None, tags=["thuật ngữ"], aliases=["braised fish"]
    )
    await kb.add("Nêm nếm", "Thử và chỉnh vị", family_id=None, tags=["Glossary"])
    await kb.add("Kho quẹt", "Món chấm", family_id=None, tags=["món ăn"])  # not a term
    assert await terms(kb, "nêm nếm rồi làm cá kho", fa) == ["Nêm nếm", "Cá kho", "Kho"]
    assert await terms(kb, "How do I make BRAISED fish?", fa) == ["Cá kho"]
    assert await terms(kb, "kho quẹt", fa) == ["Kho"]
    assert await terms(kb, "cákho", fa) == []  # syllables, not substrings
    assert await terms(kb, "", fa) == []


async def test_family_terms_stay_in_their_family_and_shadow_the_shared_one(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, fb = env
    await kb.add("Mắm ruốc", "Nhà A gọi là ruốc", family_id=fa, tags=["term"])
    shared = await kb.add("Nước màu", "Đường thắng", family_id=None, tags=["term"])
    assert await terms(kb, "mắm ruốc với nước màu", fb) == ["Nước màu"]
    assert await terms(kb, "mắm ruốc với nước màu", None) == ["Nước màu"]
    own = await kb.edit(shared.id, fa, body="Nhà A thắng đường với mỡ", actor="Mẹ")
    assert own.family_id == fa  # the family's copy, not the shared entry
    found = await kb.glossary_for("mắm ruốc với nước màu", fa)
    assert [(e.title, e.family_id) for e in found] == [("Mắm ruốc", fa), ("Nước màu", fa)]
    assert found[1].body == "Nhà A thắng đường với mỡ"
    assert [e.family_id for e in await kb.glossary_for("nước màu", fb)] == [None]


async def test_add_edit_remove_undo_are_seen_at_the_next_question(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, _ = env
    assert await terms(kb, "kho quẹt là gì", fa) == []  # loads the (empty) index
    e = await kb.add("Kho quẹt", "Mỡ hành, tôm khô", family_id=fa, tags=["term"])
    assert await terms(kb, "kho quẹt là gì", fa) == ["Kho quẹt"]
    await kb.edit(e.id, fa, title="Kho tiêu", actor="Mẹ")
    assert await terms(kb, "kho quẹt là gì", fa) == []
    assert await terms(kb, "kho tiêu là gì", fa) == ["Kho tiêu"]
    await kb.edit(e.id, fa, tags=["món ăn"], actor="Mẹ")  # no longer a term
    assert await terms(kb, "kho tiêu là gì", fa) == []
    await kb.undo(e.id, fa, actor="Mẹ")
    assert await terms(kb, "kho tiêu là gì", fa) == ["Kho tiêu"]
    await kb.remove(e.id, fa, actor="Mẹ")
    assert await terms(kb, "kho tiêu là gì", fa) == []


async def test_a_suggestion_is_no_term_until_approved(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, _ = env
    s = await kb.suggest(
        "Thắng đường", "Làm nước màu", family_id=fa, tags=["term"], author=Author("Con")
    )
    assert await terms(kb, "thắng đường", fa) == []
    await kb.approve(s.id, fa, approver="Mẹ")
    assert await terms(kb, "thắng đường", fa) == ["Thắng đường"]


async def test_another_process_terms_are_seen_within_the_reload_interval(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """The bot keeps the terms in memory; `hearth kb add` in another process writes beside it."""
    bot_db, bot_kb = await open_kb(tmp_path / "kb.db")
    cli_db, cli_kb = await open_kb(tmp_path / "kb.db")
    try:
        assert await terms(bot_kb, "nước màu là gì", None) == []
        await cli_kb.add("Nước màu", "Đường thắng", family_id=None, tags=["term"])
        monkeypatch.setattr(glossary, "RELOAD_S", 0.0)
        assert await terms(bot_kb, "nước màu là gì", None) == ["Nước màu"]
    finally:
        await cli_db.close()
        await bot_db.close()


async def test_concurrent_questions_read_the_terms_once(env) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    db, kb, fa, _ = env
    await kb.add("Kho", "Nấu liu riu", family_id=None, tags=["term"])
    reads: list[str] = []
    for conn in db.connections:
        await conn.set_trace_callback(reads.append)
    kb.glossary.written()  # as after a write: the next question reads the terms again
    results = await asyncio.gather(*(terms(kb, "kho cá", fa) for _ in range(20)))
    assert results == [["Kho"]] * 20
    assert sum("entries_fts MATCH" in sql for sql in reads) == 1
