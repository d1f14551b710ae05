"""Per-family memory: recent history within a token budget, a rolling summary, and facts.

Every query takes the family id; there is no method that reads across families.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.db import Database
from bot.core.errors import UsageError
from knowledge.types import Fact, Turn

TokenCounter = Callable[[str], int]
Summarizer = Callable[[str, list[Turn]], Awaitable[str]]

MAX_FACT_CHARS = 500
MAX_FACTS = 200
HISTORY_WINDOW = 60  # rows read per turn; older ones are in the summary
SUMMARY_CHARS = 1500
SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+")


def extractive_summary(previous: str, turns: list[Turn], limit: int = SUMMARY_CHARS) -> str:
    """Fold turns into the summary without a model: the first sentence of each turn."""
    lines = [previous.strip()] if previous.strip() else []
    for turn in turns:
        first = SENTENCE_RE.split(turn.text.strip(), maxsplit=1)[0][:200]
        if first:
            who = turn.author or ("Hearth" if turn.role == "assistant" else "?")
            lines.append(f"- {who}: {first}")
    text = "\n".join(lines)
    if len(text) > limit:  # keep the newest part of the rolling summary
        text = "…" + text[-(limit - 1) :]
    return text


class Memory:
    """History, summaries and facts of families."""

    def __init__(self, db: Database, count_tokens: TokenCounter) -> None:
        self.db = db
        self.count_tokens = count_tokens

    async def _unsummarised(self, family_id: int, limit: int) -> tuple[Any, list[Any]]:
        """The summary row and the newest turns it does not cover yet, newest first."""
        summary_row = await self.db.fetchone(
            "SELECT text, upto_message_id FROM summaries WHERE family_id = ?", (family_id,)
        )
        upto = summary_row["upto_message_id"] if summary_row else 0
        rows = await self.db.fetchall(
            "SELECT m.id, m.role, m.text, COALESCE(mem.display_name, '') AS author"
            " FROM messages m LEFT JOIN members mem ON mem.id = m.member_id"
            " WHERE m.family_id = ? AND m.id > ? AND m.status != 'pending'"
            " ORDER BY m.id DESC LIMIT ?",
            (family_id, upto, limit),
        )
        return summary_row, rows

    async def recent(self, family_id: int, budget_tokens: int) -> tuple[str | None, list[Turn]]:
        """The summary and the newest turns that fit the budget, oldest first."""
        summary_row, rows = await self._unsummarised(family_id, HISTORY_WINDOW)
        turns: list[Turn] = []
        used = 0
        for row in rows:
            cost = self.count_tokens(row["text"]) + 4
            if used + cost > budget_tokens:
                break
            used += cost
            turns.append(Turn(row["role"], row["text"], row["author"]))
        turns.reverse()
        return (summary_row["text"] if summary_row else None), turns

    async def overflow(self, family_id: int, budget_tokens: int) -> tuple[list[Turn], int]:
        """Turns older than what fits the budget and not yet summarised, with the last id."""
        summary_row, rows = await self._unsummarised(family_id, HISTORY_WINDOW * 2)
        upto = summary_row["upto_message_id"] if summary_row else 0
        used = 0
        keep = 0
        for row in rows:
            used += self.count_tokens(row["text"]) + 4
            if used > budget_tokens:
                break
            keep += 1
        old = list(reversed(rows[keep:]))
        if len(rows) < HISTORY_WINDOW * 2 and used <= budget_tokens * 1.5 and len(old) < 8:
            return [], upto
        turns = [Turn(r["role"], r["text"], r["author"]) for r in old]
        return turns, (old[-1]["id"] if old else upto)

    async def fold(
        self, family_id: int, budget_tokens: int, summarizer: Summarizer | None = None
    ) -> bool:
        """Move overflowing turns into the rolling summary (model if given, else extractive)."""
        turns, upto = await self.overflow(family_id, budget_tokens)
        if not turns:
            return False
        previous = await self.db.scalar(
            "SELECT text FROM summaries WHERE family_id = ?", (family_id,)
        )
        text = ""
        if summarizer is not None:
            text = (await summarizer(previous or "", turns)).strip()[:SUMMARY_CHARS]
        if not text:
            text = extractive_summary(previous or "", turns)
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO summaries (family_id, text, upto_message_id) VALUES (?, ?, ?)"
                " ON CONFLICT (family_id) DO UPDATE SET text = excluded.text,"
                " upto_message_id = excluded.upto_message_id,"
                " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')",
                (family_id, text, upto),
            )
        return True

    async def summary(self, family_id: int) -> str | None:
        """The family's rolling summary, if any."""
        return await self.db.scalar("SELECT text FROM summaries WHERE family_id = ?", (family_id,))

    async def facts(self, family_id: int) -> list[Fact]:
        """Remembered facts, oldest first (the numbering /forget uses)."""
        rows = await self.db.fetchall(
            "SELECT id, text, created_at FROM facts WHERE family_id = ? ORDER BY id", (family_id,)
        )
        return [Fact(r["id"], r["text"], r["created_at"]) for r in rows]

    async def remember(self, family_id: int, member_id: int | None, text: str) -> Fact:
        """Keep a fact; refuses empty, oversized or duplicate text with a polite reason."""
        clean = " ".join(text.split())
        if not clean:
            raise UsageError(
                "Bạn muốn mình nhớ điều gì? Ví dụ: /remember Bà nội không ăn cay",
                "What should I remember? For example: /remember Grandma eats no chilli",
            )
        if len(clean) > MAX_FACT_CHARS:
            raise UsageError(
                f"Điều cần nhớ dài quá ({len(clean)} ký tự, tối đa {MAX_FACT_CHARS}).",
                f"That is too long to remember ({len(clean)} characters, at most {MAX_FACT_CHARS}).",
            )
        existing = await self.facts(family_id)
        for fact in existing:
            if fact.text.casefold() == clean.casefold():
                return fact
        if len(existing) >= MAX_FACTS:
            raise UsageError(
                f"Gia đình đã có {MAX_FACTS} điều cần nhớ; hãy /forget bớt trước.",
                f"This family already has {MAX_FACTS} facts; /forget some first.",
            )
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO facts (family_id, member_id, text) VALUES (?, ?, ?)",
                (family_id, member_id, clean),
            )
            fact_id = cur.lastrowid
        assert fact_id is not None
        return Fact(fact_id, clean)

    async def forget(self, family_id: int, which: str) -> list[Fact]:
        """Forget fact number N (as /memory numbers them) or all; returns what was removed."""
        facts = await self.facts(family_id)
        arg = which.strip().lower()
        if arg in ("all", "tatca", "tất cả", "het", "hết"):
            doomed = facts
        else:
            try:
                index = int(arg)
            except ValueError:
                raise UsageError(
                    "Dùng /forget N (số trong /memory) hoặc /forget all.",
                    "Use /forget N (the number shown by /memory) or /forget all.",
                ) from None
            if not 1 <= index <= len(facts):
                raise UsageError(
                    f"Không có mục số {index}. Xem danh sách bằng /memory.",
                    f"There is no item {index}. See the list with /memory.",
                )
            doomed = [facts[index - 1]]
        if doomed:
            async with self.db.transaction() as conn:
                await conn.executemany(
                    "DELETE FROM facts WHERE family_id = ? AND id = ?",
                    [(family_id, f.id) for f in doomed],
                )
        return doomed
