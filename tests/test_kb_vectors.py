"""Vector similarity fused with BM25 when the endpoint embeds; silent BM25 when it does not."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.store.families import FamilyStore
from knowledge.normalize import syllables
from tests.kb_support import open_kb

# A scripted embedding model: words that mean the same thing share a dimension.
CONCEPTS = {
    "che": 0,
    "trang": 0,
    "mieng": 0,
    "dessert": 0,
    "sweet": 0,
    "ngot": 0,
    "canh": 1,
    "soup": 1,
    "nuoc": 1,
    "dung": 1,
    "bi": 2,
    "mat": 2,
    "secret": 2,
}
DIM = 8


class ScriptedEmbedder:
    """Deterministic embeddings with a call history; can be switched off like an endpoint."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.mode = "ok"

    async def __call__(self, texts: list[str]) -> list[list[float]] | None:
        self.calls.append(texts)
        if self.mode == "none":
            return None
        if self.mode == "raise":
            raise ConnectionError("endpoint has no /embeddings")
        out = []
        for text in texts:
            vec = [0.0] * DIM
            for tok in syllables(text):
                if tok in CONCEPTS:
                    vec[CONCEPTS[tok]] += 1.0
            vec[DIM - 1] = 0.05  # nothing is exactly orthogonal
            out.append(vec)
        return out


async def test_vectors_find_what_words_do_not(tmp_path: Path) -> None:
    emb = ScriptedEmbedder()
    db, kb = await open_kb(tmp_path / "kb.db", emb)
    try:
        che = await kb.add("Chè bưởi", "Cùi bưởi, đậu xanh, nước cốt dừa", family_id=None)
        await kb.add("Canh chua", "me, cà chua, dứa", family_id=None)
        rows = await db.fetchall("SELECT entry_id, dim, length(vec) AS n FROM entry_vectors")
        assert [(r["dim"], r["n"]) for r in rows] == [(DIM, DIM * 4)] * 2  # float32 blobs
        hits = await kb.search("món tráng miệng", None)
        assert hits and hits[0].entry.id == che.id
        # lexical hits still come first when both agree
        assert (await kb.search("canh chua", None))[0].entry.title == "Canh chua"
        await kb.remove(che.id, None)
        assert await db.scalar("SELECT count(*) FROM entry_vectors") == 1
        assert all(h.entry.id != che.id for h in await kb.search("món tráng miệng", None))
    finally:
        await db.close()


async def test_vectors_respect_family_scope(tmp_path: Path) -> None:
    emb = ScriptedEmbedder()
    db, kb = await open_kb(tmp_path / "kb.db", emb)
    try:
        fams = FamilyStore(db)
        a = await fams.ensure("zalo", "a", "private")
        b = await fams.ensure("zalo", "b", "private")
        await kb.add("Công thức nhà B", "bí mật", family_id=b.id)
        assert await kb.search("secret", a.id) == []
        assert [h.entry.title for h in await kb.search("secret", b.id)] == ["Công thức nhà B"]
    finally:
        await db.close()


async def test_no_embeddings_means_plain_bm25_silently(tmp_path: Path) -> None:
    for mode in ("none", "raise"):
        emb = ScriptedEmbedder()
        emb.mode = mode
        db, kb = await open_kb(tmp_path / f"{mode}.db", emb)
        try:
            await kb.add("Chè bưởi", "Cùi bưởi, đậu xanh", family_id=None)
            assert [h.entry.title for h in await kb.search("che buoi", None)] == ["Chè bưởi"]
            assert await kb.search("món tráng miệng", None) == []
            assert await db.scalar("SELECT count(*) FROM entry_vectors") == 0
            assert len(emb.calls) == 1  # switched off after the first failure, not every query
        finally:
            await db.close()


async def test_backfill_embeds_entries_added_while_offline(tmp_path: Path) -> None:
    emb = ScriptedEmbedder()
    db, kb = await open_kb(tmp_path / "kb.db", emb)
    try:
        emb.mode = "none"
        await kb.add("Chè bưởi", "Cùi bưởi", family_id=None)
        emb.mode = "ok"
        kb.vectors._off_until = 0.0  # the retry window has passed
        assert await kb.backfill_vectors() == 1
        assert (await kb.search("dessert", None))[0].entry.title == "Chè bưởi"
    finally:
        await db.close()


async def test_a_repeated_question_is_embedded_once_and_stays_family_scoped(
    tmp_path: Path,
) -> None:
    emb = ScriptedEmbedder()
    db, kb = await open_kb(tmp_path / "kb.db", emb)
    try:
        fams = FamilyStore(db)
        a = await fams.ensure("zalo", "a", "private")
        b = await fams.ensure("zalo", "b", "private")
        await kb.add("Công thức nhà B", "bí mật", family_id=b.id)
        before = len(emb.calls)
        assert [h.entry.title for h in await kb.search("secret", b.id)] == ["Công thức nhà B"]
        # the same words (other spacing) from another family: no endpoint call, no leak
        assert await kb.search("  secret ", a.id) == []
        assert [h.entry.title for h in await kb.search("secret", b.id)] == ["Công thức nhà B"]
        assert len(emb.calls) == before + 1
        await kb.search("món tráng miệng", a.id)
        assert len(emb.calls) == before + 2
    finally:
        await db.close()


async def test_another_process_vectors_are_seen_within_the_check_interval(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """The bot caches the vector index; `hearth kb add` in another process writes beside it."""
    import knowledge.vectors as vectors

    emb = ScriptedEmbedder()
    bot_db, bot_kb = await open_kb(tmp_path / "kb.db", emb)
    cli_db, cli_kb = await open_kb(tmp_path / "kb.db", emb)
    try:
        await bot_kb.add("Canh chua", "me, cà chua, dứa", family_id=None)
        assert await bot_kb.vectors.nearest("dessert", None) == []  # only a soup so far
        che = await cli_kb.add("Chè bưởi", "Cùi bưởi, đậu xanh", family_id=None)
        # this process's own writes are seen at once; the other's after GEN_CHECK_S
        monkeypatch.setattr(vectors, "GEN_CHECK_S", 0.0)
        found = await bot_kb.vectors.nearest("dessert", None)
        assert found is not None and [eid for eid, _ in found][:1] == [che.id]
    finally:
        await cli_db.close()
        await bot_db.close()


class EndpointLikeEmbedder(ScriptedEmbedder):
    """Takes a moment per request, as an HTTP endpoint does."""

    async def __call__(self, texts: list[str]) -> list[list[float]] | None:
        await asyncio.sleep(0.01)
        return await super().__call__(texts)


async def test_questions_asked_together_share_embedding_requests(tmp_path: Path) -> None:
    emb = EndpointLikeEmbedder()
    db, kb = await open_kb(tmp_path / "kb.db", emb)
    try:
        che = await kb.add("Chè bưởi", "Cùi bưởi, đậu xanh, nước cốt dừa", family_id=None)
        canh = await kb.add("Canh chua", "me, cà chua, dứa", family_id=None)
        emb.calls.clear()
        questions = [f"món {'ngọt' if i % 2 else 'canh'} số {i}" for i in range(40)]
        together = await asyncio.gather(*(kb.vectors.nearest(q, None) for q in questions))
        shared = len(emb.calls)
        emb.calls.clear()
        kb.vectors._queries.clear()  # the same questions again, one at a time
        alone = [await kb.vectors.nearest(q, None) for q in questions]
    finally:
        await db.close()
    assert shared < len(questions) / 4  # one request while the first is in flight, …
    assert len(emb.calls) == len(questions)  # … and no waiting when a question is alone
    assert together == alone  # each question still gets its own vector back
    first, second = together[:2]
    assert first is not None and second is not None
    assert [first[0][0], second[0][0]] == [canh.id, che.id]
