"""Per-family memory: recent history within a token budget, a rolling summary, and facts.

Every query takes the family id; there is no method that reads across families.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import UsageError
from bot.store.db import Database, packed_rows
from knowledge.types import Fact, Turn

TokenCounter = Callable[[str], int]
Summarizer = Callable[[str, list[Turn]], Awaitable[str]]

MAX_FACT_CHARS = 500
MAX_FACTS = 200
HISTORY_WINDOW = 60  # rows read per turn; older ones are in the summary
SUMMARY_CHARS = 1500
FOLD_SLACK = 1.5  # unsummarised history may grow to this times the budget before a fold
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


UNSUMMARISED = (
    "SELECT m.id, m.role, m.text, COALESCE(mem.display_name, '') AS author"
    " FROM messages m LEFT JOIN members mem ON mem.id = m.member_id"
    " WHERE m.family_id = ? AND m.id > ? AND m.status != 'pending'"
    " ORDER BY m.id DESC LIMIT ?"
)


def is_command(row: Any) -> bool:
    """A bot command a member sent ("/family set …", "/kb add …"): not conversation, so it
    is neither summarised nor shown to the model as history."""
    return row["role"] == "user" and str(row["text"]).lstrip().startswith("/")


def _unsummarised_in(conn: sqlite3.Connection, family_id: int, limit: int) -> tuple[Any, list[Any]]:
    """The summary row and the newest turns it does not cover yet, newest first."""
    summary_row = conn.execute(
        "SELECT text, upto_message_id FROM summaries WHERE family_id = ?", (family_id,)
    ).fetchone()
    upto = summary_row["upto_message_id"] if summary_row else 0
    rows = packed_rows(conn, UNSUMMARISED, (family_id, upto, limit))
    return summary_row, rows


def _facts_in(conn: sqlite3.Connection, family_id: int) -> list[Fact]:
    rows = packed_rows(
        conn, "SELECT id, text, created_at FROM facts WHERE family_id = ? ORDER BY id", (family_id,)
    )
    return [Fact(r["id"], r["text"], r["created_at"]) for r in rows]


def _split(costs: Iterable[int], total: int, budget: int, window: int) -> int | None:
    """How many of the newest rows stay out of the summary, or None when folding can wait.

    `costs` are the rows' token costs, newest first (they may stop after the first row
    that no longer fits); `total` is how many rows there are.
    """
    used = 0
    keep = 0
    for cost in costs:
        used += cost
        if used > budget:
            break
        keep += 1
    if total < window and used <= budget * 1.5 and total - keep < 8:
        return None
    return keep


@dataclass(slots=True)
class Recall:
    """What one turn reads from memory, and what it saw for the fold decision."""

    facts: list[Fact]
    summary: str | None
    recent: list[Turn]
    rows_read: int = 0
    costs: list[int] = field(default_factory=list)  # newest first, up to the first misfit


class Memory:
    """History, summaries and facts of families."""

    def __init__(self, db: Database, count_tokens: TokenCounter) -> None:
        self.db = db
        self.count_tokens = count_tokens

    async def _unsummarised(self, family_id: int, limit: int) -> tuple[Any, list[Any]]:
        """The summary row and the newest turns it does not cover yet, newest first."""
        return await self.db.read(lambda conn: _unsummarised_in(conn, family_id, limit))

    async def recall(
        self, family_id: int, budget_tokens: int, *, facts: bool = True, slack: float = 1.0
    ) -> Recall:
        """Facts, summary and the turns that fit the budget (times `slack`), read in one
        database job. With slack=FOLD_SLACK a turn sees every turn not yet summarised (the
        fold waits until they outgrow that), so turn after turn the history only grows at
        its end and a prompt built from it keeps its prefix."""

        def work(conn: sqlite3.Connection) -> tuple[list[Fact], Any, list[Any]]:
            found = _facts_in(conn, family_id) if facts else []
            return (found, *_unsummarised_in(conn, family_id, HISTORY_WINDOW))

        found, summary_row, rows = await self.db.read(work)
        turns: list[Turn] = []
        costs: list[int] = []
        used = 0
        room = int(budget_tokens * slack)
        for row in rows:
            cost = self.count_tokens(row["text"]) + 4
            costs.append(cost)
            if used + cost > room:
                break
            used += cost
            turns.append(Turn(row["role"], row["text"], row["author"]))
        turns.reverse()
        summary = summary_row["text"] if summary_row else None
        return Recall(found, summary, turns, len(rows), costs)

    async def recent(self, family_id: int, budget_tokens: int) -> tuple[str | None, list[Turn]]:
        """The summary and the newest turns that fit the budget, oldest first."""
        got = await self.recall(family_id, budget_tokens, facts=False)
        return got.summary, got.recent

    def may_overflow(self, seen: Recall, new_texts: list[str], budget_tokens: int) -> bool:
        """Whether `fold` could find work once `new_texts` (newest first) are stored.

        Judged from the rows this turn already read, so most turns need no second query;
        True whenever that is not enough to be sure.
        """
        if seen.rows_read >= HISTORY_WINDOW:
            return True  # the window was full: only the larger query can tell
        new = [self.count_tokens(t) + 4 for t in new_texts]
        for k in range(len(new) + 1):
            costs = new[:k] + seen.costs
            if len(seen.costs) < seen.rows_read and sum(costs) <= budget_tokens:
                return True  # the costs read stop short of the budget (a larger budget)
            if _split(costs, k + seen.rows_read, budget_tokens, HISTORY_WINDOW * 2) is not None:
                return True
        return False

    async def overflow(self, family_id: int, budget_tokens: int) -> tuple[list[Turn], int]:
        """Turns older than what fits the budget and not yet summarised, with the last id."""
        summary_row, rows = await self._unsummarised(family_id, HISTORY_WINDOW * 2)
        return self._overflowing(summary_row, rows, budget_tokens)

    def _overflowing(
        self, summary_row: Any, rows: list[Any], budget_tokens: int
    ) -> tuple[list[Turn], int]:
        upto = summary_row["upto_message_id"] if summary_row else 0
        costs = (self.count_tokens(r["text"]) + 4 for r in rows)
        keep = _split(costs, len(rows), budget_tokens, HISTORY_WINDOW * 2)
        if keep is None:
            return [], upto
        old = list(reversed(rows[keep:]))
        turns = [Turn(r["role"], r["text"], r["author"]) for r in old if not is_command(r)]
        return turns, (old[-1]["id"] if old else upto)

    async def fold(
        self, family_id: int, budget_tokens: int, summarizer: Summarizer | None = None
    ) -> bool:
        """Move overflowing turns into the rolling summary (model if given, else extractive)."""
        summary_row, rows = await self._unsummarised(family_id, HISTORY_WINDOW * 2)
        turns, upto = self._overflowing(summary_row, rows, budget_tokens)
        if upto == (summary_row["upto_message_id"] if summary_row else 0):
            return False
        previous = summary_row["text"] if summary_row else None
        text = ""
        if summarizer is not None and turns:
            text = (await summarizer(previous or "", turns)).strip()[:SUMMARY_CHARS]
        if not text:  # (only commands overflowed: the summary stays, the window moves on)
            text = extractive_summary(previous or "", turns)
        await self.db.execute(
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
        return await self.db.read(lambda conn: _facts_in(conn, family_id))

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
