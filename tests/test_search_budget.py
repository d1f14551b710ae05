"""The ranked query reads a bounded number of documents; the index keeps scopes in columns."""

from __future__ import annotations

from pathlib import Path

from bot.store.families import FamilyStore
from knowledge.search import RANK_BUDGET, RANK_SINGLE_MAX, scoped, within_budget
from tests.kb_support import open_kb


def test_small_indexes_rank_by_every_term() -> None:
    df = {"ca": 40, "kho": 30, "ca_kho": 5}
    assert within_budget(["ca", "kho", "ca_kho"], df) == ["ca", "kho", "ca_kho"]


def test_large_indexes_rank_by_the_rarest_terms_within_the_budget() -> None:
    df = {"ca": 900, "kho": 500, "ca_kho": 350, "to": 240}
    chosen = within_budget(["ca", "kho", "ca_kho", "to"], df)
    assert chosen == ["ca_kho", "to"]  # query order kept, rarest first chosen
    assert sum(df[t] for t in chosen) <= RANK_BUDGET
    # one term over the budget is still ranked alone, up to RANK_SINGLE_MAX documents
    assert within_budget(["pho", "bo"], {"pho": RANK_SINGLE_MAX, "bo": 2000}) == ["pho"]
    assert within_budget(["pho"], {"pho": RANK_SINGLE_MAX + 1}) == []


def test_scope_is_a_column_filter_not_a_phrase() -> None:
    assert scoped(["ca"], None) == '{head tags body head2 body2 exact} : ("ca")'
    expr = scoped(["ca"], 7)
    assert expr is not None and "zglobal" not in expr
    assert 'scope : "zf7" AND {fhead ftags fbody fhead2 fbody2 fexact} : ("ca")' in expr


async def test_family_text_sits_in_family_columns(tmp_path: Path) -> None:
    db, kb = await open_kb(tmp_path / "kb.db")
    try:
        fams = FamilyStore(db)
        a = await fams.ensure("zalo", "a", "private")
        b = await fams.ensure("zalo", "b", "private")
        g = await kb.add("Cá kho tộ", "nước màu", family_id=None)
        mine = await kb.add("Cá kho nhà A", "kho quẹt", family_id=a.id)
        row = await db.fetchone(
            "SELECT head, fhead, scope FROM entries_fts WHERE rowid = ?", (mine.id,)
        )
        assert row is not None
        assert (row["head"], row["fhead"], row["scope"]) == ("", "ca kho nha a", f"zf{a.id}")
        row = await db.fetchone("SELECT head, fhead FROM entries_fts WHERE rowid = ?", (g.id,))
        assert row is not None
        assert (row["head"], row["fhead"]) == ("ca kho to", "")
        assert {h.entry.id for h in await kb.search("ca kho", a.id)} == {g.id, mine.id}
        assert {h.entry.id for h in await kb.search("ca kho", b.id)} == {g.id}
        assert {h.entry.id for h in await kb.search("ca kho", None)} == {g.id}
    finally:
        await db.close()


def test_migration_0004_moves_indexed_text_by_scope(tmp_path: Path) -> None:
    from bot.store.migrate import applied_versions, apply_one, connect, shipped_migrations

    conn = connect(tmp_path / "old.db")
    try:
        applied_versions(conn)  # creates the bookkeeping table, as the runner does
        for m in shipped_migrations():
            if m.version == 4:
                conn.execute(
                    "INSERT INTO entries_fts (rowid, head, body, head2, scope) VALUES"
                    " (1, 'ca kho to', 'nuoc mau', 'ca_kho kho_to', 'zglobal'),"
                    " (2, 'ca kho nha a', 'kho quet', 'ca_kho', 'zf5')"
                )
            apply_one(conn, m)
        rows = conn.execute(
            "SELECT rowid, head, fhead, body, fbody, fhead2, scope FROM entries_fts ORDER BY rowid"
        ).fetchall()
        assert rows == [
            (1, "ca kho to", "", "nuoc mau", "", "", "zglobal"),
            (2, "", "ca kho nha a", "", "kho quet", "ca_kho", "zf5"),
        ]
        match = "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?"
        assert conn.execute(match, ('{fhead} : "kho"',)).fetchall() == [(2,)]
    finally:
        conn.close()


async def test_index_is_merged_when_segments_pile_up(tmp_path: Path) -> None:
    """Each write transaction leaves an FTS5 segment and search pays a seek in each one:
    many single adds must not leave more than a few above SEGMENT_MAX."""
    from knowledge.indexing import SEGMENT_MAX, STRUCTURE_ROWID, segment_count

    db, kb = await open_kb(tmp_path / "kb.db")
    try:
        most = 0
        for i in range(120):
            await kb.add(f"Món số {i}", f"nấu kiểu {i}", family_id=None)
            block = await db.scalar(
                "SELECT block FROM entries_fts_data WHERE id = ?", (STRUCTURE_ROWID,)
            )
            listed = segment_count(bytes(block))
            distinct = await db.scalar("SELECT count(DISTINCT segid) FROM entries_fts_idx")
            assert listed == distinct  # the structure record is read correctly
            most = max(most, listed)
        assert SEGMENT_MAX < most <= SEGMENT_MAX + 4
        assert [h.entry.title for h in await kb.search("món số 7", None, limit=1)] == ["Món số 7"]
    finally:
        await db.close()


def test_stopword_pairs_and_accented_stopwords_are_not_query_terms() -> None:
    from knowledge.normalize import accented, syllables
    from knowledge.search import query_terms, tokens_content

    text = "Nấu phở bò thế nào cho ngon?"
    tokens = syllables(text)
    terms = query_terms(tokens, [[t] for t in tokens_content(tokens)], accented(text))
    assert not {"the_nao", "nao_cho", "nào", "thế"} & set(terms)
    assert {"nau_pho", "pho_bo", "bo_the", "cho_ngon", "nấu", "phở", "bò"} <= set(terms)
    assert "привет" in query_terms(["nau"], [["nau"]], ["привет"])  # not a folded stopword
    only_stop = syllables("thế nào")  # nothing else: the stopwords are the topic
    assert "the_nao" in query_terms(only_stop, [[t] for t in only_stop], ["thế", "nào"])
