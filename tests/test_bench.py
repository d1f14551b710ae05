"""`hearth bench --quick --json` finishes and reports every field (targets are not asserted)."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.bench.report import FIELDS, table
from bot.bench.stats import percentile, summarize
from bot.bench.synthetic import Scale, build_core


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile(values, 50) == 50.0
    assert percentile([3.0], 99) == 3.0
    stats = summarize([1.0, 2.0, 3.0, 100.0])
    assert stats["p50"] == 2.5 and stats["max"] == 100.0 and stats["n"] == 4


def test_synthetic_world_is_consistent(tmp_path: Path) -> None:
    db_path = tmp_path / "w.db"
    stats = build_core(db_path, Scale(families=12, messages=3_000, entries=0))
    conn = sqlite3.connect(db_path)
    try:

        def one(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        assert one("SELECT count(*) FROM messages") == stats.messages == 3_000
        assert one("SELECT count(*) FROM answers") == stats.answers > 0
        # every answer belongs to a user message of its own family, by a member of it
        assert (
            one(
                "SELECT count(*) FROM answers a JOIN messages m ON m.id = a.message_id"
                " AND m.family_id = a.family_id AND m.role = 'user'"
                " JOIN members mem ON mem.id = a.member_id AND mem.family_id = a.family_id"
            )
            == stats.answers
        )
        assert one("SELECT count(*) FROM messages WHERE role = 'assistant'") == stats.answers
        assert (
            one(
                "SELECT count(*) FROM messages m JOIN members mem ON mem.id = m.member_id"
                " WHERE mem.family_id != m.family_id"
            )
            == 0
        )
        assert one("SELECT count(*) FROM families WHERE greeted = 1") == 12
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def test_quick_bench_reports_every_field(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--quick", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    reasons = result["null_reasons"]
    for name in FIELDS:
        assert name in result, name
        value = result[name]
        if value is None:
            assert reasons.get(name), f"{name} is null without a reason"
        else:
            assert isinstance(value, int | float) and math.isfinite(value), (name, value)
            assert value >= 0, (name, value)
    assert result["messages"] == 20_000
    assert result["families"] == 50
    assert result["details"]["overhead"]["overhead"]["n"] == 150
    assert "| `overhead_ms_p99` |" in table(result)
