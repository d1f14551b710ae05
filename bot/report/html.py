"""`hearth report --html`: one self-contained page (inline CSS and SVG, no scripts)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from bot.report import svg
from bot.report.report import (
    ANSWER_COLUMNS,
    CONTRIBUTOR_COLUMNS,
    FAMILY_COLUMNS,
    answer_rows,
    contributor_rows,
    family_rows,
)

CSS = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: 10px 16px; min-width: 110px; }
.card b { display: block; font-size: 22px; }
.row { display: flex; gap: 24px; flex-wrap: wrap; }
table { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
th, td { border-bottom: 1px solid #eee; padding: 3px 10px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #777; font-size: 12px; }
"""


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return "<p class='muted'>—</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for value in row:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            text = "" if value is None else str(value)
            cells.append(f"<td class='n'>{text}</td>" if numeric else f"<td>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _card(label: str, value: Any) -> str:
    return f"<div class='card'>{escape(label)}<b>{escape(str(value))}</b></div>"


def render_html(report: dict[str, Any]) -> str:
    """The whole report page; every piece of text from the database is escaped."""
    days = report["per_day"]
    top_answers = report["top_answers"]
    top_entries = report["top_entries"]
    contributors = report["contributors"]
    families = report["families"]
    weeks = report["retention"]
    llm = report["llm"]
    since = report["since"] or "the beginning"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Hearth report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Hearth — usage report</h1>",
        f"<p class='muted'>Since {escape(since)}. A <i>return</i> is someone coming back to an"
        " earlier answer: a reply, the helpful / not helpful / save buttons, an emoji reaction,"
        " opening it from /saved, or asking it again. <i>Not helpful</i> is a return but never"
        " credit.</p>",
        "<div class='cards'>",
        _card("answers", report["answers"]),
        _card("returns", report["returns"]),
        _card("positive", report["positive_returns"]),
        _card("negative (not helpful)", report["negative_returns"]),
        _card("families", len(families)),
        _card("deleted families", report["deleted_families"]["families"]),
        "</div>",
        "<h2>Answers and returns per day</h2>",
        svg.grouped_bars(
            [d["day"] for d in days],
            [
                ("answers", [d["answers"] for d in days]),
                ("positive returns", [d["positive"] for d in days]),
                ("negative returns", [d["negative"] for d in days]),
            ],
            title="Answers and returns per day",
        ),
        "<h2>Returns by kind</h2>",
        svg.hbars(
            [(k, v) for k, v in report["returns_by_kind"].items()],
            title="Returns by kind",
            color=svg.PALETTE[1],
        ),
        "<div class='row'><div><h2>Top returned answers</h2>",
        svg.hbars(
            [(f"#{a['answer_id']} {a['question']}", a["returns"]) for a in top_answers],
            title="Top returned answers",
        ),
        _table(ANSWER_COLUMNS, answer_rows(top_answers)),
        "</div><div><h2>Top knowledge entries (credited returns)</h2>",
        svg.hbars(
            [(f"#{e['entry_id']} {e['title'] or '?'}", e["returns"]) for e in top_entries],
            title="Top entries",
            color=svg.PALETTE[3],
        ),
        "</div></div>",
        "<h2>Contributors</h2>",
        svg.hbars(
            [(c["contributor"] or "?", c["credited_returns"]) for c in contributors[:15]],
            title="Credited returns per contributor",
            color=svg.PALETTE[4],
        ),
        _table(CONTRIBUTOR_COLUMNS, contributor_rows(contributors)),
        "<h2>Families</h2><div class='row'><div>",
        svg.hbars(
            [(f["family"], f["active_days"]) for f in families[:20]],
            title="Active days per family",
            color=svg.PALETTE[1],
            unit=" d",
        ),
        "</div><div>",
        _table(FAMILY_COLUMNS, family_rows(families)),
        "</div></div>",
        "<h2>Retention: families per week</h2>",
        svg.grouped_bars(
            [w["week"] for w in weeks],
            [
                ("active", [w["active_families"] for w in weeks]),
                ("returning", [w["returning_families"] for w in weeks]),
                ("new", [w["new_families"] for w in weeks]),
            ],
            title="Active, returning and new families per week",
            height=220,
        ),
        "<h2>Model endpoints</h2><div class='row'><div>",
        svg.hbars(
            [(f"{c['model']} p50", c["p50_ms"]) for c in llm]
            + [(f"{c['model']} p95", c["p95_ms"]) for c in llm],
            title="Latency of successful calls (ms)",
            unit=" ms",
        ),
        "</div><div>",
        svg.hbars(
            [(c["model"], round(100 * c["error_rate"], 1)) for c in llm],
            title="Error rate (%)",
            color=svg.PALETTE[2],
            unit=" %",
        ),
        "</div></div>",
        _table(
            ["endpoint", "model", "calls", "errors", "avg ms", "p50 ms", "p95 ms"],
            [
                [
                    c["endpoint"],
                    c["model"],
                    c["calls"],
                    c["errors"],
                    c["avg_ms"],
                    c["p50_ms"],
                    c["p95_ms"],
                ]
                for c in llm
            ],
        ),
        "</body></html>",
    ]
    return "\n".join(parts)
