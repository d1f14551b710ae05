"""The maintainer's report: answers, returns, credit, families and model health, as data.

Everything is computed from the event log (`answers`, `returns`, `credit_events`,
`messages`, `llm_calls`) at report time; nothing here is a stored counter. Definitions:
- `returns` counts every return event (👎 included); `positive_returns` excludes 👎.
- `top_answers[].returns` counts all return events of the answer in the window.
- `top_entries[].returns` and `contributors[].credited_returns` count positive returns only.
- a family is *active* on a UTC day when a member wrote to the bot (an addressed message)
  or returned to an answer that day; a family is *returning* in an ISO week when it was
  active that week and in some earlier week.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.report.usage import KINDS, UsageLog, has_table
from bot.store.db import Database

Redactor = Callable[[str | None], str | None]


def parse_since(text: str | None) -> str | None:
    """`YYYY-MM-DD` → the ISO timestamp of that UTC midnight; ValueError when malformed."""
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since must be a date like 2026-01-31, not {text!r}") from None
    if len(text) != 10:
        raise ValueError(f"--since must be a date like 2026-01-31, not {text!r}")
    return f"{day.isoformat()}T00:00:00.000Z"


def percentile(values: list[int], q: float) -> int | None:
    """Nearest-rank percentile (p50, p95) of a small list; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def iso_week(day: str) -> str:
    """`2026-11-24` → `2026-W48`."""
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


async def build_report(
    db: Database, since: str | None = None, *, top: int = 10, redact: Redactor | None = None
) -> dict[str, Any]:
    """Every figure of `hearth report`, JSON-ready."""
    start = since or "0000"
    usage = UsageLog(db)
    by_kind = {k: 0 for k in KINDS}
    for row in await db.fetchall(
        "SELECT kind, count(*) AS n FROM returns WHERE created_at >= ? GROUP BY kind", (start,)
    ):
        by_kind[row["kind"]] = int(row["n"])
    negative = int(
        await db.scalar(
            "SELECT count(*) FROM returns WHERE created_at >= ? AND positive = 0", (start,)
        )
    )
    report: dict[str, Any] = {
        "since": since[:10] if since else None,
        "answers": int(
            await db.scalar("SELECT count(*) FROM answers WHERE created_at >= ?", (start,))
        ),
        "returns": sum(by_kind.values()),
        "positive_returns": sum(by_kind.values()) - negative,
        "negative_returns": negative,
        "returns_by_kind": by_kind,
        "per_day": await _per_day(db, start),
        "top_answers": await _top_answers(db, start, top),
        "top_entries": await _top_entries(db, start, top),
        "contributors": await usage.contributor_credit(None, since),
        "families": await _families(db, start),
        "retention": await _retention(db, start),
        "llm": await _llm(db, start),
        "deleted_families": await _deleted(db, start),
    }
    if redact is not None:
        _redact(report, redact)
    return report


async def _per_day(db: Database, start: str) -> list[dict[str, Any]]:
    days: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"answers": 0, "returns": 0, "positive": 0, "negative": 0}
    )
    for row in await db.fetchall(
        "SELECT substr(created_at, 1, 10) AS day, count(*) AS n FROM answers"
        " WHERE created_at >= ? GROUP BY day",
        (start,),
    ):
        days[row["day"]]["answers"] = int(row["n"])
    for row in await db.fetchall(
        "SELECT substr(created_at, 1, 10) AS day, count(*) AS n, sum(positive) AS pos"
        " FROM returns WHERE created_at >= ? GROUP BY day",
        (start,),
    ):
        day = days[row["day"]]
        day.update(returns=int(row["n"]), positive=int(row["pos"]))
        day["negative"] = day["returns"] - day["positive"]
    return [{"day": d, **days[d]} for d in sorted(days)]


async def _top_answers(db: Database, start: str, top: int) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT r.answer_id, a.question, f.platform || ':' || f.chat_id AS family,"
        " count(*) AS n, sum(r.positive) AS pos FROM returns r"
        " JOIN answers a ON a.id = r.answer_id AND a.family_id = r.family_id"
        " JOIN families f ON f.id = r.family_id"
        " WHERE r.created_at >= ? GROUP BY r.answer_id ORDER BY n DESC, r.answer_id LIMIT ?",
        (start, top),
    )
    return [
        {
            "answer_id": r["answer_id"],
            "question": r["question"],
            "family": r["family"],
            "returns": int(r["n"]),
            "positive": int(r["pos"]),
            "negative": int(r["n"]) - int(r["pos"]),
        }
        for r in rows
    ]


async def _top_entries(db: Database, start: str, top: int) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT entry_id, count(DISTINCT return_id) AS n FROM credit_events"
        " WHERE created_at >= ? GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT ?",
        (start, top),
    )
    titles: dict[int, Any] = {}
    if rows and await has_table(db, "entries"):
        ids = [r["entry_id"] for r in rows]
        marks = ",".join("?" * len(ids))
        for e in await db.fetchall(
            f"SELECT id, title, family_id FROM entries WHERE id IN ({marks})", ids
        ):
            titles[e["id"]] = e
    result = []
    for r in rows:
        entry = titles.get(r["entry_id"])
        result.append(
            {
                "entry_id": r["entry_id"],
                "title": entry["title"] if entry is not None else None,
                "scope": "missing"
                if entry is None
                else ("global" if entry["family_id"] is None else "family"),
                "returns": int(r["n"]),
            }
        )
    return result


ACTIVITY = (
    "SELECT family_id, substr(created_at, 1, 10) AS day FROM messages"
    " WHERE role = 'user' AND status != 'ignored' AND created_at >= ?"
    " UNION SELECT family_id, substr(created_at, 1, 10) FROM returns WHERE created_at >= ?"
)


async def _families(db: Database, start: str) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "WITH act AS (" + ACTIVITY + "),"
        " ans AS (SELECT family_id, count(*) AS n FROM answers WHERE created_at >= ?"
        "  GROUP BY family_id),"
        " ret AS (SELECT family_id, count(*) AS n FROM returns WHERE created_at >= ?"
        "  GROUP BY family_id),"
        " days AS (SELECT family_id, count(*) AS n FROM act GROUP BY family_id)"
        " SELECT f.platform || ':' || f.chat_id AS family, f.name,"
        " coalesce(ans.n, 0) AS answers, coalesce(ret.n, 0) AS returns,"
        " coalesce(days.n, 0) AS active_days FROM families f"
        " LEFT JOIN ans ON ans.family_id = f.id LEFT JOIN ret ON ret.family_id = f.id"
        " LEFT JOIN days ON days.family_id = f.id"
        " WHERE coalesce(ans.n, 0) + coalesce(ret.n, 0) + coalesce(days.n, 0) > 0"
        " ORDER BY returns DESC, answers DESC, family",
        (start, start, start, start),
    )
    return [
        {
            "family": r["family"],
            "name": r["name"],
            "answers": int(r["answers"]),
            "returns": int(r["returns"]),
            "active_days": int(r["active_days"]),
        }
        for r in rows
    ]


async def _retention(db: Database, start: str) -> list[dict[str, Any]]:
    weeks: dict[int, set[str]] = defaultdict(set)
    for row in await db.fetchall(ACTIVITY, ("0000", "0000")):
        weeks[row["family_id"]].add(iso_week(row["day"]))
    first_week_shown = iso_week(start[:10]) if start != "0000" else ""
    table: dict[str, dict[str, int]] = defaultdict(
        lambda: {"active_families": 0, "returning_families": 0, "new_families": 0}
    )
    for family_weeks in weeks.values():
        ordered = sorted(family_weeks)
        for i, week in enumerate(ordered):
            if week < first_week_shown:
                continue
            cell = table[week]
            cell["active_families"] += 1
            cell["returning_families" if i > 0 else "new_families"] += 1
    return [{"week": w, **table[w]} for w in sorted(table)]


async def _llm(db: Database, start: str) -> list[dict[str, Any]]:
    calls: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for row in await db.fetchall(
        "SELECT endpoint, model, ok, latency_ms FROM llm_calls WHERE created_at >= ? ORDER BY id",
        (start,),
    ):
        calls[(row["endpoint"], row["model"])].append((int(row["ok"]), int(row["latency_ms"])))
    result = []
    for (endpoint, model), items in sorted(calls.items()):
        ok_latency = [ms for ok, ms in items if ok]
        errors = sum(1 for ok, _ in items if not ok)
        result.append(
            {
                "endpoint": endpoint,
                "model": model,
                "calls": len(items),
                "errors": errors,
                "error_rate": round(errors / len(items), 4),
                "avg_ms": round(sum(ok_latency) / len(ok_latency)) if ok_latency else None,
                "p50_ms": percentile(ok_latency, 50),
                "p95_ms": percentile(ok_latency, 95),
            }
        )
    return result


async def _deleted(db: Database, start: str) -> dict[str, int]:
    row = await db.fetchone(
        "SELECT count(*) AS families, coalesce(sum(messages), 0) AS messages,"
        " coalesce(sum(answers), 0) AS answers, coalesce(sum(returns), 0) AS returns"
        " FROM deleted_family_stats WHERE deleted_at >= ?",
        (start,),
    )
    assert row is not None
    return {k: int(row[k]) for k in ("families", "messages", "answers", "returns")}


def _redact(report: dict[str, Any], redact: Redactor) -> None:
    """Message text and family-written names become stable hashes; counts stay."""
    for item in report["top_answers"]:
        item["question"] = redact(item["question"])
    for item in report["top_entries"]:
        if item["scope"] != "global":
            item["title"] = redact(item["title"])
    for item in report["contributors"]:
        if not item["key"].startswith(("starter", "unknown")):
            item["contributor"] = redact(item["contributor"])
            item["key"] = redact(item["key"])
    for item in report["families"]:
        item["name"] = redact(item["name"])


# Tables both renderers show (terminal and HTML): one column list and row projection each.
ANSWER_COLUMNS = ("answer", "family", "question", "returns", "positive", "negative")
CONTRIBUTOR_COLUMNS = ("contributor", "entries", "approved suggestions", "credited returns")
FAMILY_COLUMNS = ("family", "answers", "returns", "active days")


def answer_rows(answers: list[dict[str, Any]]) -> list[list[Any]]:
    """Top answers as table rows, in ANSWER_COLUMNS order."""
    return [
        [a["answer_id"], a["family"], a["question"], a["returns"], a["positive"], a["negative"]]
        for a in answers
    ]


def contributor_rows(contributors: list[dict[str, Any]]) -> list[list[Any]]:
    """Contributors as table rows, in CONTRIBUTOR_COLUMNS order."""
    return [
        [c["contributor"], c["entries"], c["approved_suggestions"], c["credited_returns"]]
        for c in contributors
    ]


def family_rows(families: list[dict[str, Any]]) -> list[list[Any]]:
    """Families as table rows, in FAMILY_COLUMNS order."""
    return [[f["family"], f["answers"], f["returns"], f["active_days"]] for f in families]
