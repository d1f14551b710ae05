"""The answer log: every answer with its question, exact prompt, model and sources."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.store.db import Database


@dataclass(slots=True)
class AnswerRecord:
    """What the chat handler produced, ready to be stored."""

    family_id: int
    member_id: int | None
    message_id: int | None
    question: str
    question_norm: str
    answer: str
    prompt: list[dict[str, str]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    source: str = "model"
    model: str | None = None
    endpoint: str | None = None
    latency_ms: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    entry_ids: list[int] = field(default_factory=list)


class AnswerLog:
    """Stores answers and finds them again by id or by the message that carried them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, rec: AnswerRecord) -> int:
        """Insert the answer, the entries it used and its assistant turn, in one transaction."""
        return await self.db.write(lambda conn: record_in(conn, rec))

    async def link_messages(self, family_id: int, answer_id: int, platform_ids: list[str]) -> None:
        """Remember which platform messages carry the answer, so replies to them are returns."""
        if platform_ids:
            await self.db.write(lambda conn: link_in(conn, family_id, answer_id, platform_ids))

    async def by_platform_message(self, family_id: int, platform_message_id: str) -> int | None:
        """The answer a platform message belongs to, within this family only."""
        return await self.db.read(
            lambda conn: answer_for_message_in(conn, family_id, platform_message_id)
        )

    async def get(self, family_id: int, answer_id: int) -> dict[str, Any] | None:
        """One answer of this family (never another family's)."""
        row = await self.db.fetchone(
            "SELECT * FROM answers WHERE family_id = ? AND id = ?", (family_id, answer_id)
        )
        return None if row is None else dict(row)

    async def latest(self, family_id: int) -> dict[str, Any] | None:
        """The family's most recent answer (for /why)."""
        row = await self.db.fetchone(
            "SELECT * FROM answers WHERE family_id = ? ORDER BY id DESC LIMIT 1", (family_id,)
        )
        return None if row is None else dict(row)

    async def recent_log(
        self, family_id: int | None, limit: int, since: str | None = None
    ) -> list[dict[str, Any]]:
        """Newest answers first with their return counts, for `hearth logs`."""
        where = "WHERE a.created_at >= ?" + (
            " AND a.family_id = ?" if family_id is not None else ""
        )
        params: tuple[Any, ...] = (since or "0000",)
        params += (family_id, limit) if family_id is not None else (limit,)
        rows = await self.db.fetchall(
            "SELECT a.id, a.question, a.answer, a.prompt_json, a.model, a.endpoint, a.latency_ms,"
            " a.source, a.created_at, f.platform || ':' || f.chat_id AS family,"
            " (SELECT group_concat(entry_id) FROM (SELECT entry_id FROM answer_entries"
            "   WHERE answer_id = a.id ORDER BY rank)) AS entry_ids,"
            " (SELECT count(*) FROM returns r WHERE r.answer_id = a.id) AS returns"
            f" FROM answers a JOIN families f ON f.id = a.family_id {where}"
            " ORDER BY a.id DESC LIMIT ?",
            params,
        )
        result = []
        for r in rows:
            result.append(
                {
                    "answer_id": r["id"],
                    "family": r["family"],
                    "question": r["question"],
                    "answer": r["answer"],
                    "prompt": json.loads(r["prompt_json"]),
                    "model": r["model"],
                    "endpoint": r["endpoint"],
                    "latency_ms": r["latency_ms"],
                    "source": r["source"],
                    "created_at": r["created_at"],
                    "entry_ids": [int(x) for x in (r["entry_ids"] or "").split(",") if x],
                    "returns": r["returns"],
                }
            )
        return result


def record_in(conn: sqlite3.Connection, rec: AnswerRecord) -> int:
    """The answer row, its entries and its assistant turn (inside the caller's transaction)."""
    cur = conn.execute(
        "INSERT INTO answers (family_id, message_id, member_id, question, question_norm,"
        " answer, prompt_json, context_json, source, model, endpoint, latency_ms,"
        " prompt_tokens, completion_tokens) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            rec.family_id,
            rec.message_id,
            rec.member_id,
            rec.question,
            rec.question_norm,
            rec.answer,
            json.dumps(rec.prompt, ensure_ascii=False),
            json.dumps(rec.context, ensure_ascii=False, default=str),
            rec.source,
            rec.model,
            rec.endpoint,
            rec.latency_ms,
            rec.prompt_tokens,
            rec.completion_tokens,
        ),
    )
    answer_id = cur.lastrowid
    assert answer_id is not None
    if rec.entry_ids:
        conn.executemany(
            "INSERT OR IGNORE INTO answer_entries (answer_id, entry_id, rank) VALUES (?,?,?)",
            [(answer_id, eid, rank) for rank, eid in enumerate(rec.entry_ids, 1)],
        )
    conn.execute(
        "INSERT INTO messages (family_id, platform_message_id, role, text, status,"
        " answered_at) VALUES (?, ?, 'assistant', ?, 'answered',"
        " strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
        (rec.family_id, f"answer:{answer_id}", rec.answer),
    )
    return answer_id


def link_in(
    conn: sqlite3.Connection, family_id: int, answer_id: int, platform_ids: Sequence[str]
) -> None:
    """Link the platform messages that carried an answer (inside the caller's transaction)."""
    conn.executemany(
        "INSERT OR REPLACE INTO answer_messages (family_id, platform_message_id, answer_id)"
        " VALUES (?, ?, ?)",
        [(family_id, pid, answer_id) for pid in platform_ids],
    )


def answer_for_message_in(
    conn: sqlite3.Connection, family_id: int, platform_message_id: str
) -> int | None:
    """The answer a platform message belongs to, within this family only."""
    row = conn.execute(
        "SELECT answer_id FROM answer_messages WHERE family_id = ? AND platform_message_id = ?",
        (family_id, platform_message_id),
    ).fetchone()
    return None if row is None else int(row[0])
