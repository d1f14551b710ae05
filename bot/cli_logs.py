"""`hearth logs`: recent answers with exactly what was sent to the model."""

from __future__ import annotations

import argparse
import hashlib
from typing import Any

from bot.report.tables import render_table, terminal_safe


def redact(text: str | None) -> str | None:
    """A stable short hash instead of message text (HEARTH_LOG_CONTENT=redacted)."""
    if text is None:
        return None
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def redact_prompt(prompt: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the shape of the prompt, hash its contents."""
    return [{**m, "content": redact(str(m.get("content", "")))} for m in prompt]


async def _logs(args: argparse.Namespace) -> int:
    from bot.calendar.held import held_count
    from bot.cli import CliUsageError, print_json, settings_from_env
    from bot.core.errors import UsageError
    from bot.dead_letters import DeadLetters
    from bot.report.report import parse_since
    from bot.store.answers import AnswerLog
    from bot.store.db import Database
    from bot.store.families import FamilyStore

    if args.limit < 1:
        raise CliUsageError("--limit must be at least 1")
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        raise CliUsageError(str(exc)) from None
    settings = settings_from_env()
    db = await Database.open(settings.db_path)
    try:
        family_id = None
        if args.family:
            try:
                family_id = (await FamilyStore(db).resolve(args.family)).id
            except UsageError as exc:
                raise CliUsageError(exc.en) from None
        dead = DeadLetters(db)
        if args.dropped:
            return _print_dropped(await dead.recent(family_id, args.limit), args.json)
        rows = await AnswerLog(db).recent_log(family_id, args.limit, since)
        dropped = 0 if args.json else await dead.count(family_id)
        held = 0 if args.json else await held_count(db, family_id)
    finally:
        await db.close()
    if settings.log_content == "redacted":
        for row in rows:
            row["question"] = redact(row["question"])
            row["answer"] = redact(row["answer"])
            row["prompt"] = redact_prompt(row["prompt"])
    if args.json:
        print_json(rows)
        return 0
    print(render_logs(rows) if rows else "no answers yet")
    if args.prompts:
        for row in rows:
            print()
            print(render_prompt(row))
    if dropped:
        print(f"\n{dropped} unreadable update(s) dropped: hearth logs --dropped")
    if held:
        print(
            f"\n{held} reminder(s) refused by the platform, held for the next reply in their chat"
        )
    return 0


def _print_dropped(rows: list[dict[str, Any]], as_json: bool) -> int:
    """Updates and messages that could not be read, newest first."""
    from bot.cli import print_json

    if as_json:
        print_json(rows)
    elif not rows:
        print("nothing dropped")
    else:
        print(
            render_table(
                ["time (UTC)", "platform", "ref", "reason"],
                [
                    [
                        str(r["created_at"])[:16].replace("T", " "),
                        r["platform"],
                        r["ref"],
                        r["reason"],
                    ]
                    for r in rows
                ],
                align="<<<<",
            )
        )
    return 0


def render_logs(rows: list[dict[str, Any]]) -> str:
    """One aligned line per answer (display width, so Vietnamese and emoji line up)."""
    return render_table(
        ["answer", "time (UTC)", "family", "model", "ms", "entries", "returns", "question"],
        [
            [
                r["answer_id"],
                str(r["created_at"])[:16].replace("T", " "),
                r["family"],
                r["model"] or r["source"],
                r["latency_ms"] if r["latency_ms"] is not None else "",
                ",".join(str(e) for e in r["entry_ids"]),
                r["returns"],
                r["question"] or "",
            ]
            for r in rows
        ],
        align="><<<>>><",
    )


def render_prompt(row: dict[str, Any]) -> str:
    """Exactly what was sent to the model for one answer, and the first line of the reply."""
    lines = [f"#{row['answer_id']}  Q: {row['question']}"]
    for message in row["prompt"]:
        content = str(message.get("content", "")).replace("\n", "\n     ")
        lines.append(f"  [{message.get('role')}] {content}")
    lines.append(f"  A: {str(row['answer']).splitlines()[0] if row['answer'] else ''}")
    return terminal_safe("\n".join(lines))


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `logs` noun."""
    logs = sub.add_parser("logs", help="recent answers, newest first, with their prompts")
    logs.add_argument("--family")
    logs.add_argument("--limit", type=int, default=20)
    logs.add_argument("--since", help="only answers from this UTC date on (YYYY-MM-DD)")
    logs.add_argument("--prompts", action="store_true", help="also print every prompt in full")
    logs.add_argument(
        "--dropped", action="store_true", help="updates dropped as unreadable, newest first"
    )
    logs.add_argument("--json", action="store_true")
    logs.set_defaults(func=_logs, is_async=True)
