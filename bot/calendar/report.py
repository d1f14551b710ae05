"""What `hearth report` says of reminders: sent, late, missed, and whether families reacted.

A family reacted to a reminder when someone in it wrote to Hearth within REACTED_WITHIN of
it; that return is credited to whoever created the event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from bot.store.db import Database

REACTED_WITHIN = "+1 day"
Redactor = Callable[[str | None], str | None]

COUNTS = (
    "SELECT"
    " sum(status = 'sent' AND late = 0) AS on_time, sum(status = 'sent' AND late = 1) AS late,"
    " sum(status = 'missed') AS missed, sum(status = 'failed') AS failed,"
    " sum(status IN ('pending', 'claimed', 'sending')) AS waiting"
    " FROM calendar_deliveries WHERE due_at >= ?"
)
# sent reminders, each with its creator and whether a user message followed within a day
REACTED = (
    "SELECT e.member_id, COALESCE(NULLIF(e.member_name, ''), '?') AS creator,"
    " EXISTS (SELECT 1 FROM messages m WHERE m.family_id = d.family_id AND m.role = 'user'"
    "   AND m.created_at >= strftime('%Y-%m-%dT%H:%M:%fZ', d.sent_at, 'unixepoch')"
    f"   AND m.created_at < strftime('%Y-%m-%dT%H:%M:%fZ', d.sent_at, 'unixepoch', '{REACTED_WITHIN}')"
    " ) AS reacted"
    " FROM calendar_deliveries d JOIN calendar_events e ON e.id = d.event_id"
    " WHERE d.status = 'sent' AND d.due_at >= ?"
)


def _start(since: str | None) -> int:
    if not since:
        return 0
    day = dt.datetime.fromisoformat(since[:10]).replace(tzinfo=dt.UTC)
    return int(day.timestamp())


async def reminder_figures(
    db: Database, since: str | None = None, redact: Redactor | None = None
) -> dict[str, Any]:
    """`{"sent", "late", "missed", "failed", "waiting", "reacted", "by_creator": [...]}`;
    `late` is counted in `sent` too; creators' names are hashed when `redact` is given."""
    start = _start(since)
    row = await db.fetchone(COUNTS, (start,))
    counts = {
        k: int((row[k] if row is not None else 0) or 0)
        for k in ("on_time", "late", "missed", "failed", "waiting")
    }
    creators: dict[tuple[int | None, str], dict[str, Any]] = {}
    for item in await db.fetchall(REACTED, (start,)):
        key = (item["member_id"], item["creator"])
        entry = creators.setdefault(key, {"creator": item["creator"], "sent": 0, "reacted": 0})
        entry["sent"] += 1
        entry["reacted"] += int(item["reacted"])
    by_creator = sorted(creators.values(), key=lambda e: (-e["reacted"], -e["sent"], e["creator"]))
    if redact is not None:
        for entry in by_creator:
            entry["creator"] = redact(entry["creator"])
    return {
        "sent": counts["on_time"] + counts["late"],
        "late": counts["late"],
        "missed": counts["missed"],
        "failed": counts["failed"],
        "waiting": counts["waiting"],
        "reacted": sum(e["reacted"] for e in by_creator),
        "by_creator": by_creator,
    }


def reminder_line(figures: dict[str, Any]) -> str:
    """The terminal report's line."""
    return (
        f"reminders sent {figures['sent']} (late {figures['late']}) · missed {figures['missed']}"
        f" · failed {figures['failed']} · followed by a family message within a day"
        f" {figures['reacted']}"
    )
