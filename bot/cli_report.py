"""`hearth report`: which answers families come back to, and whose knowledge made them."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from bot.report.tables import render_table


def render_text(report: dict[str, Any]) -> str:
    """The report as aligned terminal tables."""
    from bot.calendar.report import reminder_line
    from bot.report.report import (  # the database layer loads only when a report is made
        ANSWER_COLUMNS,
        CONTRIBUTOR_COLUMNS,
        FAMILY_COLUMNS,
        answer_rows,
        contributor_rows,
        family_rows,
    )

    r = report
    out = [
        f"Hearth report since {r['since'] or 'the beginning'}",
        f"answers {r['answers']} · returns {r['returns']} (positive {r['positive_returns']},"
        f" negative {r['negative_returns']}) · families {len(r['families'])}",
        *([reminder_line(r["reminders"])] if "reminders" in r else []),
        "",
        "Returns by kind",
        render_table(["kind", "returns"], list(r["returns_by_kind"].items())),
        "",
        "Top returned answers",
        render_table(ANSWER_COLUMNS, answer_rows(r["top_answers"])),
        "",
        "Top entries (credited returns)",
        render_table(
            ["entry", "title", "returns"],
            [[e["entry_id"], e["title"] or "?", e["returns"]] for e in r["top_entries"]],
        ),
        "",
        "Contributors",
        render_table(CONTRIBUTOR_COLUMNS, contributor_rows(r["contributors"])),
        "",
        "Families",
        render_table(FAMILY_COLUMNS, family_rows(r["families"])),
        "",
        "Families per week",
        render_table(
            ["week", "active", "returning", "new"],
            [
                [w["week"], w["active_families"], w["returning_families"], w["new_families"]]
                for w in r["retention"]
            ],
        ),
        "",
        "Model endpoints",
        render_table(
            ["endpoint", "model", "calls", "errors", "error rate", "p50 ms", "p95 ms"],
            [
                [
                    c["endpoint"],
                    c["model"],
                    c["calls"],
                    c["errors"],
                    f"{c['error_rate']:.1%}",
                    c["p50_ms"],
                    c["p95_ms"],
                ]
                for c in r["llm"]
            ],
            align="<<>>>>>",
        ),
    ]
    return "\n".join(out)


async def _load(settings: Any, since: str | None, top: int) -> dict[str, Any]:
    from bot.calendar.report import reminder_figures
    from bot.cli_logs import redact
    from bot.report.report import build_report
    from bot.store.db import Database

    db = await Database.open(settings.db_path)
    try:
        redactor = redact if settings.log_content == "redacted" else None
        report = await build_report(db, since, top=top, redact=redactor)
        report["reminders"] = await reminder_figures(db, since, redactor)
        return report
    finally:
        await db.close()


def _report(args: argparse.Namespace) -> int:
    from bot.cli import CliUsageError, print_json, settings_from_env
    from bot.report.html import render_html
    from bot.report.report import parse_since

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        raise CliUsageError(str(exc)) from None
    if args.top < 1:
        raise CliUsageError("--top must be at least 1")
    settings = settings_from_env()
    report = asyncio.run(_load(settings, since, args.top))
    if args.html:
        path = Path(args.html)
        try:
            path.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            raise CliUsageError(f"cannot write {path}: {exc.strerror}") from None
    if args.json:
        print_json(report)
    elif args.html:
        print(f"wrote {args.html}")
    else:
        print(render_text(report))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` noun."""
    report = sub.add_parser("report", help="returns, credit, families and model health")
    report.add_argument("--since", help="only events from this UTC date on (YYYY-MM-DD)")
    report.add_argument("--json", action="store_true", help="one JSON document on stdout")
    report.add_argument("--html", metavar="PATH", help="write a self-contained HTML page")
    report.add_argument("--top", type=int, default=10, help="rows in the top lists (10)")
    report.set_defaults(func=_report, is_async=False)
