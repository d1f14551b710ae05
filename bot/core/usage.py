"""Return events: someone in the family came back to an earlier answer.

Credit is never stored: it is derived from these events and `answer_entries` by query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.db import Database

POSITIVE_KINDS = frozenset({"reply", "helpful", "save", "open_saved", "reaction", "ask_again"})
ASK_AGAIN_MIN_GAP = timedelta(minutes=10)


def utcnow() -> datetime:
    """One clock for the usage log (tests compare against it)."""
    return datetime.now(UTC)


class UsageLog:
    """Writes return events exactly once per (kind, member, answer[, detail])."""

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
        async with self.db.transaction() as conn:
            owner = await (
                await conn.execute(
                    "SELECT 1 FROM answers WHERE family_id = ? AND id = ?", (family_id, answer_id)
                )
            ).fetchone()
            if owner is None:
                return False
            cur = await conn.execute(
                "INSERT OR IGNORE INTO returns (family_id, answer_id, member_id, kind, positive,"
                " detail, dedup_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (family_id, answer_id, member_id, kind, int(kind in POSITIVE_KINDS), detail, key),
            )
            return cur.rowcount == 1

    async def find_repeat(
        self, family_id: int, question_norm: str, top_entry: int | None, now: datetime | None = None
    ) -> int | None:
        """An earlier answer to the same question in this family, asked at least 10 min ago.

        The rule: same normalised question text, and the same top knowledge entry (or both
        without one); the gap keeps a rephrase within the same conversation from counting.
        """
        if not question_norm:
            return None
        cutoff = ((now or utcnow()) - ASK_AGAIN_MIN_GAP).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rows = await self.db.fetchall(
            "SELECT a.id, (SELECT entry_id FROM answer_entries e WHERE e.answer_id = a.id"
            " ORDER BY rank LIMIT 1) AS top FROM answers a"
            " WHERE a.family_id = ? AND a.question_norm = ? AND a.created_at <= ?"
            " ORDER BY a.id DESC LIMIT 5",
            (family_id, question_norm, cutoff),
        )
        for row in rows:
            if row["top"] == top_entry:
                return int(row["id"])
        return None


def normalize_question(text: str) -> str:
    """Fold case, diacritics (đ too), punctuation and spacing so a repeat is recognised."""
    import unicodedata

    folded = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    kept = [c for c in folded if unicodedata.category(c) != "Mn"]
    words = "".join(c if c.isalnum() else " " for c in kept).split()
    return " ".join(words)[:500]
