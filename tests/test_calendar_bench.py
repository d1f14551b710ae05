"""The calendar bench builds its families through the store and claims what falls due
(what it measures is read by a person, not asserted here)."""

from __future__ import annotations

from pathlib import Path

from bot.bench.calendar_bench import run


async def test_calendar_bench_small(tmp_path: Path) -> None:
    doc = await run(families=50, per_family=20, ticks=3600, folder=tmp_path)
    assert doc["families"] == 50 and doc["reminders"] == 1000
    assert doc["claimed"] > 0 and doc["busy_ticks"] > 0
    assert doc["ticks"] == 3600
    keys = {"due_check_ms_p50", "due_check_ms_p99", "busy_due_check_ms_p99", "mark_sent_ms_p99"}
    assert keys <= set(doc)
