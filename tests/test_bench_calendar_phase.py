"""`hearth bench` carries the reminder due-check as its `calendar` result and judges its
p99 against the 5 ms target (the measured numbers are read by a person, not asserted)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from bot.bench import runner
from bot.bench.plan import Plan
from bot.bench.report import judge, table


def test_the_calendar_phase_reports_the_due_check_against_its_target(tmp_path: Path) -> None:
    plan = dataclasses.replace(
        Plan.quick_scale(), calendar_families=20, calendar_per_family=5, calendar_ticks=120
    )
    res = runner.Results()
    res.phase("calendar", ("calendar",), lambda: runner._calendar(res, plan, tmp_path))
    assert res.failed == [] and res.reasons == {}
    doc = res.fields["calendar"]
    assert doc["reminders"] == 100 and doc["families"] == 20 and doc["ticks"] == 120
    assert doc["due_check_ms_p99"] >= 0
    machine = {"cores": 2, "cpu_model": "CPU", "python": "3.11", "load_average_before": []}
    full: dict[str, Any] = {"quick": False, "machine": machine, "calendar": dict(doc)}
    full["calendar"]["due_check_ms_p99"] = 6.0
    full["targets"] = judge(full)
    assert full["targets"]["calendar.due_check_ms_p99"] == {"target": "≤ 5 ms a tick", "met": False}
    full["calendar"]["due_check_ms_p99"] = 0.4
    full["targets"] = judge(full)
    assert full["targets"]["calendar.due_check_ms_p99"]["met"] is True
    row = "| `calendar.due_check_ms_p99` | 0.4 ms at 100 reminders across 20 families"
    assert row in table(full) and "| ≤ 5 ms a tick | yes |" in table(full)
    assert "100,000 reminders across 10,000 families" in Plan.full_scale().describe()
