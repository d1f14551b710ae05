"""Rows carried out of SQLite as one JSON array: same values, same order, as dicts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store.db import Database, packed_rows


def _table(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, note TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)",
        [
            (1, "Cá kho tộ", 1.5, None),
            (2, 'quote " and \\ backslash', -0.25, "đ Đ"),
            (3, "line\nbreak\ttab", 3.0, "😀"),
        ],
    )


def test_packed_rows_equal_the_plain_rows_in_their_order() -> None:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    _table(conn)
    sql = "SELECT id, name AS label, score, note FROM t WHERE id >= ? ORDER BY score DESC"
    plain = [dict(r) for r in conn.execute(sql, (1,)).fetchall()]
    assert packed_rows(conn, sql, (1,)) == plain
    assert [r["id"] for r in plain] == [3, 1, 2]
    assert packed_rows(conn, sql, (9,)) == []  # no rows: an empty list, not an error
    star = "SELECT t.*, t.score * 2 AS rank FROM t ORDER BY rank LIMIT ?"
    assert packed_rows(conn, star, (2,)) == [dict(r) for r in conn.execute(star, (2,))]


def test_a_blob_cannot_be_packed() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE b (v BLOB)")
    conn.execute("INSERT INTO b VALUES (x'00ff')")
    with pytest.raises(sqlite3.OperationalError, match="BLOB"):
        packed_rows(conn, "SELECT v FROM b")


async def test_the_database_reads_packed_rows(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "h.db")
    try:
        await db.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, note TEXT)"
        )
        await db.execute("INSERT INTO t VALUES (1, 'a', 0.5, NULL)")
        rows = await db.fetchall_packed("SELECT * FROM t WHERE id = :id", {"id": 1})
        assert rows == [{"id": 1, "name": "a", "score": 0.5, "note": None}]
    finally:
        await db.close()
