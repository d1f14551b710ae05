"""Entries, revisions, undo, family scoping, suggestions, verbatim and the starter pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.errors import UsageError
from bot.store.db import Database
from bot.store.families import FamilyStore
from knowledge.rows import Author
from knowledge.search import verbatim_match
from knowledge.store import KnowledgeBase
from tests.kb_support import fixture_records, kb_with_two_families, open_kb


@pytest.fixture
async def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    db, kb, a, b = await kb_with_two_families(tmp_path / "kb.db")
    yield db, kb, a, b
    await db.close()


async def titles(kb: KnowledgeBase, q: str, fam: int | None) -> list[str]:
    return [h.entry.title for h in await kb.search(q, fam, limit=10)]


async def test_edit_then_undo_restores_previous_version(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, _ = env
    e = await kb.add("Cá kho tộ", "Công thức cũ", family_id=fa, tags=["cá"])
    await kb.edit(e.id, fa, title="Cá kho tộ của bà", body="Thêm dứa và me", actor="Mẹ")
    assert (await kb.get(e.id, fa)).body == "Thêm dứa và me"  # type: ignore[union-attr]
    assert await titles(kb, "them dua", fa) == ["Cá kho tộ của bà"]
    restored = await kb.undo(e.id, fa, actor="Mẹ")
    assert (restored.title, restored.body, restored.version) == ("Cá kho tộ", "Công thức cũ", 3)
    # the index follows the undo in the same transaction
    assert await titles(kb, "them dua", fa) == []
    assert await titles(kb, "cong thuc cu", fa) == ["Cá kho tộ"]
    history = await kb.history(e.id, fa)
    assert [(r.version, r.action) for r in history] == [(1, "add"), (2, "edit"), (3, "undo")]
    assert history[1].body == "Thêm dứa và me"  # nothing typed is lost


async def test_repeated_undo_walks_back_and_stops(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, _ = env
    e = await kb.add("Phở", "v1", family_id=fa)
    await kb.edit(e.id, fa, body="v2")
    await kb.edit(e.id, fa, body="v3")
    assert (await kb.undo(e.id, fa)).body == "v2"
    assert (await kb.undo(e.id, fa)).body == "v1"
    with pytest.raises(UsageError):
        await kb.undo(e.id, fa)


async def test_remove_hides_and_undo_brings_back(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, _ = env
    e = await kb.add("Bánh chưng", "Gói lá dong", family_id=fa)
    await kb.remove(e.id, fa, actor="Bố")
    assert await titles(kb, "banh chung", fa) == []
    assert (await kb.list_entries(fa))[1] == 0
    assert (await kb.get(e.id, fa)).status == "removed"  # type: ignore[union-attr]
    with pytest.raises(UsageError):
        await kb.remove(e.id, fa)
    back = await kb.undo(e.id, fa)
    assert back.status == "approved"
    assert await titles(kb, "banh chung", fa) == ["Bánh chưng"]


async def test_family_sees_global_and_own_never_another(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, fb = env
    await kb.add("Nước mắm pha", "chung cho mọi nhà", family_id=None)
    own = await kb.add("Nước mắm pha kiểu nhà A", "bí mật nhà A", family_id=fa)
    assert set(await titles(kb, "nuoc mam pha", fa)) == {"Nước mắm pha", "Nước mắm pha kiểu nhà A"}
    assert await titles(kb, "nuoc mam pha", fb) == ["Nước mắm pha"]
    assert all(h.entry.family_id is None for h in await kb.search("bí mật nhà A", fb))
    assert await titles(kb, "nuoc mam", None) == ["Nước mắm pha"]
    assert await kb.get(own.id, fb) is None
    assert [e.title for e in (await kb.list_entries(fb))[0]] == ["Nước mắm pha"]
    for op in (kb.edit, kb.remove, kb.undo, kb.history):
        with pytest.raises(UsageError):
            await (op(own.id, fb, body="x") if op is kb.edit else op(own.id, fb))
    assert "bí mật" not in await kb.export(fb, "jsonl")


async def test_family_admin_change_to_global_stays_in_family(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, fb = env
    g = await kb.add("Canh chua", "bản chung", family_id=None)
    removed = await kb.remove(g.id, fa, actor="admin A")
    assert removed.id != g.id and removed.family_id == fa
    assert await titles(kb, "canh chua", fa) == []
    assert await titles(kb, "canh chua", fb) == ["Canh chua"]  # other families unaffected
    assert await titles(kb, "canh chua", None) == ["Canh chua"]
    await kb.undo(g.id, fa)  # the global id keeps working for the family
    assert await titles(kb, "canh chua", fa) == ["Canh chua"]
    edited = await kb.edit(g.id, fa, body="bản nhà A")
    assert (await kb.get(g.id, fa)).body == "bản nhà A"  # type: ignore[union-attr]
    assert (await kb.get(g.id, fb)).body == "bản chung"  # type: ignore[union-attr]
    assert [h.entry.id for h in await kb.search("canh chua", fa)] == [edited.id]
    # a global admin changes the shared entry itself
    await kb.edit(g.id, fb, body="bản chung mới", global_admin=True)
    assert (await kb.get(g.id, None)).body == "bản chung mới"  # type: ignore[union-attr]


async def test_suggestions_wait_for_approval(env) -> None:  # type: ignore[no-untyped-def]
    db, kb, fa, fb = env
    who = Author("Bé Na", "telegram", "42", None)
    s = await kb.suggest("Chè bưởi", "Cùi bưởi ngâm muối", family_id=fa, author=who)
    assert s.status == "pending"
    assert await titles(kb, "che buoi", fa) == []
    assert [e.id for e in await kb.pending(fa)] == [s.id]
    assert await kb.pending(fb) == []
    with pytest.raises(UsageError):
        await kb.approve(s.id, fb, approver="admin B")
    ok = await kb.approve(s.id, fa, approver="Mẹ")
    assert ok.status == "approved" and ok.author == "Bé Na"
    row = await db.fetchone("SELECT * FROM entries WHERE id = ? AND family_id = ?", (s.id, fa))
    assert (row["author_user_id"], row["approved_by"]) == ("42", "Mẹ")
    assert await titles(kb, "che buoi", fa) == ["Chè bưởi"]
    r = await kb.suggest("Xôi", "xôi xéo", family_id=fa, author=who)
    assert (await kb.reject(r.id, fa, approver="Mẹ")).status == "rejected"
    assert await titles(kb, "xoi xeo", fa) == []
    with pytest.raises(UsageError):
        await kb.approve(r.id, fa, approver="Mẹ")


HOSTILE = [
    '"',
    '""',
    "'",
    "*",
    "a*",
    "NEAR(",
    "NEAR(a b",
    "-",
    "--",
    "- ca",
    "ca -kho",
    "AND",
    "OR",
    "NOT",
    "ca AND OR NOT kho",
    "^",
    "title:ca",
    "{head}: ca",
    "(",
    ")",
    "((((",
    "\\",
    "%",
    "_",
    "' OR 1=1 --",
    "'; DROP TABLE entries; --",
    "\x00",
    "\u200b",
    "🐟🍲",
    "",
    "   ",
    "a" * 5000,
    "ca " * 500,
    "zglobal",
    "zf2",
    "scope:zf1",
    '"ca kho" NEAR/2',
    "ĐĐĐ",
    "\u0301\u0301",
]


async def test_hostile_queries_never_raise(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, fb = env
    await kb.import_records(fixture_records(), None)
    await kb.add("Bí mật nhà B", "zf2 không được lộ", family_id=fb)
    for q in HOSTILE:
        hits = await kb.search(q, fa, limit=5)
        assert all(h.entry.family_id in (None, fa) for h in hits), q
        await kb.glossary_for(q, fa)
    assert (await kb.search("ca -kho", fa))[0].entry.title == "Cá kho tộ"


async def test_verbatim_needs_a_strong_top_hit(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, _fa, _ = env
    await kb.import_records(fixture_records(), None)
    hit = verbatim_match(await kb.search("bà ơi cá kho tộ nấu sao", None))
    assert hit is not None and hit.entry.title == "Cá kho tộ" and hit.entry.author == "Bà nội"
    assert verbatim_match(await kb.search("nước mắm pha chua ngọt", None)) is not None
    # matches, but not strongly enough: an ordinary source
    weak = await kb.search("nuoc mam", None)
    assert weak[0].entry.title == "Nước mắm pha chua ngọt"
    assert verbatim_match(weak) is None
    # strong but not marked verbatim
    assert verbatim_match(await kb.search("phở bò", None)) is None


async def test_glossary_finds_terms_in_text(env) -> None:  # type: ignore[no-untyped-def]
    _db, kb, fa, _ = env
    await kb.import_records(fixture_records(), None)
    terms = await kb.glossary_for("Bà dặn phải nêm nếm lại rồi kho thêm 10 phút", fa)
    assert {e.title for e in terms} == {"Kho", "Nêm nếm"}
    assert await kb.glossary_for("canh chua", fa) == []


async def test_starter_pack_loads_once(tmp_path: Path) -> None:
    pack = tmp_path / "pack.jsonl"
    rows = [
        {
            "title": "Mắm tôm",
            "body": "Pha với chanh, đường",
            "tags": ["nước chấm"],
            "aliases": ["shrimp paste"],
        },
        {"title": "Bánh cuốn", "body": "Tráng bột mỏng", "tags": "bánh, ăn sáng"},
    ]
    pack.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\nnot json\n")
    db, kb = await open_kb(tmp_path / "kb.db")
    try:
        assert await kb.load_starter_pack(pack) == 2
        assert await kb.load_starter_pack(pack) == 0
        hits = await kb.search("shrimp paste", None)
        assert hits[0].entry.title == "Mắm tôm" and hits[0].entry.family_id is None
        assert hits[0].entry.author == "Hearth"
        fam = await FamilyStore(db).ensure("console", "me", "private")
        await kb.remove(hits[0].entry.id, None, global_admin=True)
        assert await kb.load_starter_pack(pack) == 0  # removals stick
        assert await kb.search("mam tom", fam.id) == []
    finally:
        await db.close()


async def test_shipped_pack_path_is_package_data(tmp_path: Path) -> None:
    from knowledge.packs import starter_pack_text

    text = starter_pack_text()
    db = await Database.open(tmp_path / "x.db")
    try:
        loaded = await KnowledgeBase(db).load_starter_pack()
        assert loaded == (0 if text is None else sum(1 for ln in text.splitlines() if ln.strip()))
    finally:
        await db.close()


async def test_item_a_family_undo_never_rolls_back_a_global_entry(env) -> None:  # type: ignore[no-untyped-def]
    """Hardening A: a family admin's /kb undo on a global entry leaves it as it is for all."""
    _db, kb, fa, fb = env
    g = await kb.add("Bánh xèo", "bản đầu", family_id=None)
    await kb.edit(g.id, None, body="bản hai", global_admin=True)
    with pytest.raises(UsageError) as refused:
        await kb.undo(g.id, fa, actor="admin A")
    assert "chung" in refused.value.user_message("vi")
    assert "shared" in refused.value.user_message("en")
    for fam in (fa, fb, None):
        assert (await kb.get(g.id, fam)).body == "bản hai"  # type: ignore[union-attr]
    assert [r.action for r in await kb.history(g.id, None)] == ["add", "edit"]
    # the family's undo acts on its own copy
    await kb.edit(g.id, fa, body="bản nhà A", actor="admin A")
    assert (await kb.undo(g.id, fa, actor="admin A")).body == "bản hai"
    assert (await kb.get(g.id, fb)).body == "bản hai"  # type: ignore[union-attr]
    # a global admin may roll the shared entry back
    assert (await kb.undo(g.id, fb, global_admin=True)).body == "bản đầu"
