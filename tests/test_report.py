"""`hearth report` on a scenario built through the real pipeline: exact figures."""

from __future__ import annotations

import json

from bot.app import Hearth
from tests.usage_kit import build_scenario, cli


async def test_report_json_gives_exactly_the_expected_figures(hearth: Hearth) -> None:
    ids = await build_scenario(hearth)
    result = cli(hearth.settings.db_path, "report", "--json")
    assert result.returncode == 0, result.stderr
    r = json.loads(result.stdout)
    assert r["answers"] == 20
    assert r["returns"] == 14
    assert (r["positive_returns"], r["negative_returns"]) == (12, 2)
    assert r["returns_by_kind"] == {
        "reply": 2,
        "helpful": 2,
        "not_helpful": 2,
        "save": 2,
        "open_saved": 2,
        "reaction": 2,
        "ask_again": 2,
    }
    assert r["per_day"] == [
        {"day": "2026-02-23", "answers": 4, "returns": 2, "positive": 2, "negative": 0},
        {"day": "2026-02-24", "answers": 3, "returns": 0, "positive": 0, "negative": 0},
        {"day": "2026-03-02", "answers": 13, "returns": 12, "positive": 10, "negative": 2},
    ]
    assert [(a["answer_id"], a["question"], a["returns"]) for a in r["top_answers"]] == [
        (ids["A1"], "Làm cá kho thế nào?", 4),
        (ids["A2"], "Nấu phở bò ra sao?", 3),
        (ids["B1"], "Đổ bánh xèo giòn?", 3),
        (ids["B3"], "Câu hỏi thứ 3 của nhà B", 2),
        (ids["C1"], "Cá kho làm sao cho thơm?", 2),
    ]
    assert r["top_entries"] == [
        {"entry_id": ids["e1"], "title": "Cá kho tộ", "scope": "global", "returns": 6},
        {"entry_id": ids["e2"], "title": "Phở bò nhà mình", "scope": "family", "returns": 2},
        {"entry_id": ids["e3"], "title": "Bánh xèo", "scope": "global", "returns": 2},
    ]
    assert [(c["contributor"], c["entries"], c["credited_returns"]) for c in r["contributors"]] == [
        ("Bà Ngoại", 1, 6),
        ("(starter pack)", 1, 2),
        ("Mẹ", 1, 2),
    ]
    assert [(f["family"], f["answers"], f["returns"], f["active_days"]) for f in r["families"]] == [
        ("console:a", 10, 7, 2),
        ("console:b", 6, 5, 1),
        ("console:c", 4, 2, 1),
    ]
    assert r["retention"] == [
        {"week": "2026-W09", "active_families": 2, "returning_families": 0, "new_families": 2},
        {"week": "2026-W10", "active_families": 2, "returning_families": 1, "new_families": 1},
    ]
    assert r["llm"] == [
        {
            "endpoint": "http://127.0.0.1:9/v1",
            "model": "small",
            "calls": 5,
            "errors": 1,
            "error_rate": 0.2,
            "avg_ms": 250,
            "p50_ms": 200,
            "p95_ms": 400,
        },
        {
            "endpoint": "https://api.example.com/v1",
            "model": "big",
            "calls": 2,
            "errors": 2,
            "error_rate": 1.0,
            "avg_ms": None,
            "p50_ms": None,
            "p95_ms": None,
        },
    ]
    assert r["deleted_families"] == {"families": 0, "messages": 0, "answers": 0, "returns": 0}


async def test_report_since_keeps_only_the_window(hearth: Hearth) -> None:
    ids = await build_scenario(hearth)
    r = json.loads(cli(hearth.settings.db_path, "report", "--json", "--since", "2026-03-02").stdout)
    assert r["since"] == "2026-03-02"
    assert (r["answers"], r["returns"], r["positive_returns"]) == (13, 12, 10)
    assert [(f["family"], f["answers"], f["returns"], f["active_days"]) for f in r["families"]] == [
        ("console:a", 7, 7, 1),
        ("console:b", 6, 5, 1),
    ]
    assert [(e["entry_id"], e["returns"]) for e in r["top_entries"]] == [
        (ids["e1"], 4),
        (ids["e2"], 2),
        (ids["e3"], 2),
    ]
    assert [w["week"] for w in r["retention"]] == ["2026-W10"]
    assert r["retention"][0]["returning_families"] == 1
    empty = json.loads(
        cli(hearth.settings.db_path, "report", "--json", "--since", "2030-01-01").stdout
    )
    assert (empty["answers"], empty["returns"], empty["families"], empty["top_answers"]) == (
        0,
        0,
        [],
        [],
    )


async def test_bad_since_is_exit_2_with_one_line(hearth: Hearth) -> None:
    for bad in ("yesterday", "2026-13-01", "2026-3-2", ""):
        result = cli(hearth.settings.db_path, "report", "--since", bad)
        assert result.returncode == 2, (bad, result.stdout)
        assert result.stderr.count("\n") == 1 and "--since" in result.stderr
        assert result.stdout == ""
    assert cli(hearth.settings.db_path, "logs", "--since", "soon").returncode == 2


async def test_redacted_report_hides_questions_and_family_text(hearth: Hearth) -> None:
    await build_scenario(hearth)
    result = cli(hearth.settings.db_path, "report", "--json", HEARTH_LOG_CONTENT="redacted")
    assert result.returncode == 0, result.stderr
    for secret in ("cá kho", "Phở bò nhà mình", "Bà Ngoại", "Mẹ"):
        assert secret not in result.stdout
    r = json.loads(result.stdout)
    assert all(a["question"].startswith("sha256:") for a in r["top_answers"])
    assert r["top_entries"][2]["title"] == "Bánh xèo"  # global knowledge is not family text
    for args in (("report",), ("logs", "--limit", "50", "--prompts")):
        text = cli(hearth.settings.db_path, *args, HEARTH_LOG_CONTENT="redacted").stdout
        assert "sha256:" in text
        assert "làm cá kho" not in text.lower() and "Bà Ngoại" not in text
        assert "Phở bò nhà mình" not in text and "Cảm ơn bà" not in text
    full = json.loads(cli(hearth.settings.db_path, "report", "--json").stdout)
    assert [a["returns"] for a in r["top_answers"]] == [a["returns"] for a in full["top_answers"]]
