"""Search never scans the entries table; the 100k timing is opt-in (HEARTH_SLOW=1)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from knowledge.search import match_expression
from knowledge.search_sql import SEARCH_SQL, fallback_sql, ranked_sql
from knowledge.store import NOT_SHADOWED, VISIBLE
from tests.kb_support import open_kb

READS: list[tuple[str, Any]] = [
    (SEARCH_SQL, {"q": None, "fam": 3, "lim": 20}),
    (ranked_sql(["q0", "q1"]), {"q0": None, "q1": None, "fam": 3, "lim": 20}),
    (
        fallback_sql([("q10", 1), ("q11", 1), ("q20", 2), ("q21", 2), ("q30", 3)]),
        {"q10": None, "q11": None, "q20": None, "q21": None, "q30": None, "fam": 3, "lim": 12},
    ),
    (
        "SELECT count(*) FROM (SELECT 1 FROM entries_fts WHERE entries_fts MATCH ? LIMIT ?)",
        ('"ca"', 1001),
    ),
    (
        f"SELECT * FROM entries e WHERE e.status = 'approved' AND {VISIBLE} AND {NOT_SHADOWED}"
        " ORDER BY e.id DESC LIMIT :lim OFFSET :off",
        {"fam": 3, "lim": 10, "off": 0},
    ),
    ("SELECT * FROM entries WHERE status = 'pending' AND family_id IS ? ORDER BY id", (3,)),
    ("SELECT * FROM entries WHERE family_id IS ? AND status = 'approved' ORDER BY id", (3,)),
    (
        "SELECT 1 FROM entries WHERE family_id IS ? AND title = ? AND body = ?"
        " AND status = 'approved'",
        (3, "a", "b"),
    ),
]


async def test_reads_use_indexes_not_scans(tmp_path: Path) -> None:
    db, _kb = await open_kb(tmp_path / "kb.db")
    try:
        expr = match_expression(["ca", "kho"], [["ca"], ["kho", "kha"]], ["cá"], 3)
        for sql, params in READS:
            if isinstance(params, dict):
                params = {k: (expr if k.startswith("q") else v) for k, v in params.items()}
            plan = [r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql, params)]
            scans = [
                p
                for p in plan
                if p.startswith("SCAN") and not ("VIRTUAL TABLE" in p or "(subquery" in p)
            ]
            assert scans == [], (sql, plan)
        fts_plan = [
            r[3]
            for r in await db.fetchall(
                "EXPLAIN QUERY PLAN " + SEARCH_SQL, {"q": expr, "fam": 3, "lim": 5}
            )
        ]
        assert fts_plan[0].startswith("SCAN entries_fts VIRTUAL TABLE INDEX")
        assert not any("TEMP B-TREE" in p for p in fts_plan)  # FTS5 delivers rank order
    finally:
        await db.close()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("HEARTH_SLOW") != "1", reason="set HEARTH_SLOW=1")
async def test_p99_at_100k(tmp_path: Path) -> None:
    from tests.kb_bench import build, measure

    db, kb, fams = await build(tmp_path / "bench.db", 100_000)
    try:
        result = await measure(kb, fams)
        print(result)
        assert result["p99_ms"] <= 5.0
    finally:
        await db.close()
