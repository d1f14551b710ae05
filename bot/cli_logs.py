"""`hearth logs`: recent answers with exactly what was sent to the model."""

from __future__ import annotations

import argparse
import hashlib
from typing import Any


def redact(text: str | None) -> str | None:
    """A stable short hash instead of message text (HEARTH_LOG_CONTENT=redacted)."""
    if text is None:
        return None
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def redact_prompt(prompt: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the shape of the prompt, hash its contents."""
    return [{**m, "content": redact(str(m.get("content", "")))} for m in prompt]


async def _logs(args: argparse.Namespace) -> int:
    from bot.cli import CliUsageError, print_json, settings_from_env
    from bot.core.answers import AnswerLog
    from bot.core.db import Database
    from bot.core.errors import UsageError
    from bot.core.families import FamilyStore

    if args.limit < 1:
        raise CliUsageError("--limit must be at least 1")
    settings = settings_from_env()
    db = await Database.open(settings.db_path)
    try:
        family_id = None
        if args.family:
            try:
                family_id = (await FamilyStore(db).resolve(args.family)).id
            except UsageError as exc:
                raise CliUsageError(exc.en) from None
        rows = await AnswerLog(db).recent_log(family_id, args.limit)
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
    if not rows:
        print("no answers yet")
        return 0
    for row in rows:
        print(
            f"#{row['answer_id']}  {row['created_at']}  {row['family']}  "
            f"{row['model'] or row['source']}  {row['latency_ms'] or 0} ms  "
            f"entries={row['entry_ids']}  returns={row['returns']}"
        )
        print(f"  Q: {row['question']}")
        for message in row["prompt"]:
            content = str(message.get("content", "")).replace("\n", "\n     ")
            print(f"  [{message.get('role')}] {content}")
        print(f"  A: {str(row['answer']).splitlines()[0] if row['answer'] else ''}")
        print()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `logs` noun."""
    logs = sub.add_parser("logs", help="recent answers, newest first, with their prompts")
    logs.add_argument("--family")
    logs.add_argument("--limit", type=int, default=20)
    logs.add_argument("--json", action="store_true")
    logs.set_defaults(func=_logs, is_async=True)
