"""Return events: someone in the family came back to an earlier answer.

Credit is never stored: it is derived from these events and `answer_entries` by the
`credit_events` view (migrations/0003_usage.sql) and the queries below, so a different
rule can be applied to the same log later.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store.db import Database

KINDS = ("reply", "helpful", "not_helpful", "save", "open_saved", "reaction", "ask_again")
POSITIVE_KINDS = frozenset({"reply", "helpful", "save", "open_saved", "reaction", "ask_again"})
ASK_AGAIN_MIN_GAP = timedelta(minutes=10)
REPEAT_LOOKBACK = 20


def utcnow() -> datetime:
    """One clock for the usage log (tests compare against it)."""
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """The same text form SQLite's strftime('%Y-%m-%dT%H:%M:%fZ') writes, so they compare."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def normalize_question(text: str) -> str:
    """Fold case, diacritics (đ too), punctuation and spacing so a repeat is recognised."""
    folded = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    kept = [c for c in folded if unicodedata.category(c) != "Mn"]
    words = "".join(c if c.isalnum() else " " for c in kept).split()
    return " ".join(words)[:500]


async def has_table(db: Database, name: str) -> bool:
    """Whether an optional table (e.g. the knowledge base's `entries`) exists yet."""
    return bool(
        await db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    )


def return_in(
    conn: sqlite3.Connection,
    family_id: int,
    answer_id: int,
    member_id: int | None,
    kind: str,
    dedup_key: str,
    detail: str | None = None,
) -> bool:
    """Log one return inside the caller's transaction; False if counted already or foreign."""
    if kind not in KINDS:
        raise ValueError(f"unknown return kind {kind!r}")
    owner = conn.execute(
        "SELECT 1 FROM answers WHERE family_id = ? AND id = ?", (family_id, answer_id)
    ).fetchone()
    if owner is None:
        return False
    cur = conn.execute(
        "INSERT OR IGNORE INTO returns (family_id, answer_id, member_id, kind, positive,"
        " detail, dedup_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (family_id, answer_id, member_id, kind, int(kind in POSITIVE_KINDS), detail, dedup_key),
    )
    return cur.rowcount == 1


def find_repeat_in(
    conn: sqlite3.Connection,
    family_id: int,
    question_norm: str,
    top_entry: int | None,
    now: datetime | None = None,
) -> int | None:
    """`UsageLog.find_repeat` on a connection, so it can run inside the answer's transaction."""
    if not question_norm:
        return None
    rows = conn.execute(
        "SELECT a.id, a.created_at, (SELECT entry_id FROM answer_entries e"
        " WHERE e.answer_id = a.id ORDER BY rank LIMIT 1) AS top FROM answers a"
        " WHERE a.family_id = ? AND a.question_norm = ? ORDER BY a.id DESC LIMIT ?",
        (family_id, question_norm, REPEAT_LOOKBACK),
    ).fetchall()
    newest = next((r for r in rows if r[2] == top_entry), None)
    if newest is None:
        return None
    cutoff = iso_ms((now or utcnow()) - ASK_AGAIN_MIN_GAP)
    return int(newest[0]) if newest[1] <= cutoff else None


@dataclass(frozen=True, slots=True)
class SavedItem:
    """One answer a member saved with 📌."""

    answer_id: int
    question: str
    answer: str
    saved_at: str


class UsageLog:
    """Writes return events exactly once per dedup key, and reads credit back from them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_return(
        self,
        family_id: int,
        answer_id: int,
        member_id: int | None,
        kind: str,
        *,
        dedup_key: str | None = None,
        detail: str | None = None,
    ) -> bool:
        """Log one return; False when it was already counted (a second press of a button)."""
        key = dedup_key or f"{kind}:{answer_id}:{member_id}"
        return await self.db.write(
            lambda conn: return_in(conn, family_id, answer_id, member_id, kind, key, detail)
        )

    async def find_repeat(
        self, family_id: int, question_norm: str, top_entry: int | None, now: datetime | None = None
    ) -> int | None:
        """The earlier answer this question returns to, if it is a real return.

        The rule: same normalised question text and the same top knowledge entry (or both
        without one) in the same family. The newest such answer must be at least
        ASK_AGAIN_MIN_GAP old — a retry or rephrase within minutes of the last one is the
        same conversation, not a return.
        """
        return await self.db.read(
            lambda conn: find_repeat_in(conn, family_id, question_norm, top_entry, now)
        )

    async def events(self, family_id: int, answer_id: int | None = None) -> list[dict[str, Any]]:
        """The family's return events in order (optionally for one answer)."""
        extra = " AND answer_id = ?" if answer_id is not None else ""
        params: tuple[Any, ...] = (family_id,) if answer_id is None else (family_id, answer_id)
        rows = await self.db.fetchall(
            "SELECT id, answer_id, member_id, kind, positive, detail, created_at FROM returns"
            f" WHERE family_id = ?{extra} ORDER BY id",
            params,
        )
        return [dict(r) for r in rows]

    async def save(self, family_id: int, member_id: int, answer_id: int) -> None:
        """Keep the answer in the member's /saved list (saving twice keeps one)."""
        await self.db.execute(
            "INSERT OR IGNORE INTO saved_answers (family_id, member_id, answer_id) VALUES (?,?,?)",
            (family_id, member_id, answer_id),
        )

    async def saved_page(
        self, family_id: int, member_id: int, page: int, per_page: int
    ) -> tuple[list[SavedItem], int]:
        """One page of the member's saved answers, newest first, and the total count."""
        total = int(
            await self.db.scalar(
                "SELECT count(*) FROM saved_answers WHERE family_id = ? AND member_id = ?",
                (family_id, member_id),
            )
        )
        rows = await self.db.fetchall(
            "SELECT s.answer_id, s.created_at, a.question, a.answer FROM saved_answers s"
            " JOIN answers a ON a.id = s.answer_id AND a.family_id = s.family_id"
            " WHERE s.family_id = ? AND s.member_id = ?"
            " ORDER BY s.created_at DESC, s.answer_id DESC LIMIT ? OFFSET ?",
            (family_id, member_id, per_page, (page - 1) * per_page),
        )
        items = [
            SavedItem(r["answer_id"], r["question"], r["answer"], r["created_at"]) for r in rows
        ]
        return items, total

    async def saved_item(self, family_id: int, member_id: int, answer_id: int) -> SavedItem | None:
        """A saved answer of this member in this family, or None."""
        row = await self.db.fetchone(
            "SELECT s.answer_id, s.created_at, a.question, a.answer FROM saved_answers s"
            " JOIN answers a ON a.id = s.answer_id AND a.family_id = s.family_id"
            " WHERE s.family_id = ? AND s.member_id = ? AND s.answer_id = ?",
            (family_id, member_id, answer_id),
        )
        return None if row is None else SavedItem(row[0], row[2], row[3], row[1])

    async def entry_credit(
        self, family_id: int | None = None, since: str | None = None
    ) -> dict[int, int]:
        """Positive returns per knowledge entry (one per return that used it)."""
        where, params = _window("", family_id, since)
        rows = await self.db.fetchall(
            "SELECT entry_id, count(DISTINCT return_id) AS n FROM credit_events"
            f" {where} GROUP BY entry_id",
            params,
        )
        return {int(r["entry_id"]): int(r["n"]) for r in rows}

    async def contributor_credit(
        self, family_id: int | None = None, since: str | None = None
    ) -> list[dict[str, Any]]:
        """Credit per contributor: the authors of the entries positive returns used.

        A suggester stays an entry's author when it is approved, so approved suggestions
        credit the member who suggested them. One return credits a contributor once, even
        when the answer used several of their entries. Empty until the knowledge base
        (table `entries`) exists.
        """
        if not await has_table(self.db, "entries"):
            return []
        where, params = _window("c.", family_id, since)
        scope: str = ""
        scope_params: tuple[Any, ...] = ()
        if family_id is not None:
            scope, scope_params = "WHERE (e.family_id IS NULL OR e.family_id = ?)", (family_id,)
        rows = await self.db.fetchall(
            f"WITH who AS (SELECT e.id, {CONTRIBUTOR_KEY} AS key, {CONTRIBUTOR_NAME} AS name,"
            " e.status, e.source, e.approved_by FROM entries e"
            f" {scope}),"
            " credited AS (SELECT w.key, count(DISTINCT c.return_id) AS n FROM credit_events c"
            f" JOIN who w ON w.id = c.entry_id {where} GROUP BY w.key)"
            " SELECT w.key, max(w.name) AS name,"
            " sum(w.status = 'approved') AS entries,"
            " sum(w.status = 'approved' AND w.source = 'suggestion'"
            "     AND w.approved_by IS NOT NULL) AS approved_suggestions,"
            " coalesce(max(cr.n), 0) AS credited FROM who w"
            " LEFT JOIN credited cr ON cr.key = w.key GROUP BY w.key"
            " HAVING entries > 0 OR credited > 0"
            " ORDER BY credited DESC, entries DESC, name",
            (*scope_params, *params),
        )
        return [
            {
                "contributor": r["name"],
                "key": r["key"],
                "entries": int(r["entries"] or 0),
                "approved_suggestions": int(r["approved_suggestions"] or 0),
                "credited_returns": int(r["credited"]),
            }
            for r in rows
        ]


# Who an entry credits: the platform identity when known, else the typed author name.
CONTRIBUTOR_KEY = (
    "CASE WHEN e.author_platform IS NOT NULL AND e.author_user_id IS NOT NULL"
    " THEN e.author_platform || ':' || e.author_user_id"
    " WHEN coalesce(e.author, '') != '' THEN 'name:' || e.author"
    " WHEN e.source = 'starter' THEN 'starter' ELSE 'unknown' END"
)
CONTRIBUTOR_NAME = (
    "CASE WHEN coalesce(e.author, '') != '' THEN e.author"
    " WHEN e.author_platform IS NOT NULL THEN e.author_platform || ':' || e.author_user_id"
    " WHEN e.source = 'starter' THEN '(starter pack)' ELSE '(unknown)' END"
)


def _window(prefix: str, family_id: int | None, since: str | None) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause for an optional family and an optional start time (`prefix`: "c.")."""
    clauses: list[str] = []
    params: list[Any] = []
    if family_id is not None:
        clauses.append(f"{prefix}family_id = ?")
        params.append(family_id)
    if since is not None:
        clauses.append(f"{prefix}created_at >= ?")
        params.append(since)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
