"""`hearth bench --quick --json` finishes and reports every field (targets are not asserted)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from bot.bench.report import FIELDS, table
from bot.bench.stats import percentile, summarize


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == 99.0
    assert percentile(values, 50) == 50.0
    assert percentile([3.0], 99) == 3.0
    stats = summarize([1.0, 2.0, 3.0, 100.0])
    assert stats["p50"] == 2.5 and stats["max"] == 100.0 and stats["n"] == 4


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
