"""A synthetic Hearth database: families, members, history, facts, answers, knowledge.

Built with the stdlib `sqlite3` driver in a few big transactions (executemany), so a
million messages take seconds, not minutes. The text is generated from Vietnamese and
English phrase pools, so FTS and the memory window see realistic lengths and vocabulary.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.bench.phrases import (
    DISHES,
    FACTS,
    GIVEN_NAMES,
    SURNAMES,
    VI_ANSWERS,
    VI_CHATTER,
    entry_record,
)
from bot.bench.phrases import question as phrase_question
from bot.report.usage import normalize_question
from bot.store import migrate

BATCH = 50_000
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True, slots=True)
class Scale:
    """How big the synthetic world is."""

    families: int
    messages: int
    entries: int
    seed: int = 8


@dataclass(slots=True)
class BuildStats:
    """What was built and how long it took."""

    families: int = 0
    members: int = 0
    messages: int = 0
    answers: int = 0
    facts: int = 0
    entries: int = 0
    seconds: float = 0.0
    entries_seconds: float = 0.0


def family_chat_id(index: int) -> tuple[str, str]:
    """Groups get Telegram-style negative ids, private chats positive ones."""
    if index % 10 < 7:
        return f"-100{7_000_000_000 + index}", "group"
    return str(500_000_000 + index), "private"


def member_user_id(family_index: int, slot: int) -> str:
    """Stable, unique Telegram-style user ids (the bench pushes updates as these users)."""
    return str(100_000_000 + family_index * 8 + slot)


def _iso(ts: datetime) -> str:
    return ts.strftime(TS_FORMAT)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


class _World:
    """Generates the rows; ids are assigned here so foreign keys line up without lookups."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self.rng = random.Random(scale.seed)
        self.members: list[list[tuple[int, str]]] = []  # per family: (member id, name)
        self.norm_cache: dict[str, str] = {}

    def families(self) -> Iterator[tuple[Any, ...]]:
        for i in range(self.scale.families):
            chat_id, kind = family_chat_id(i)
            surname = SURNAMES[i % len(SURNAMES)]
            name = f"nha-{surname.lower()}-{i}" if i % 3 == 0 else None
            yield (i + 1, "telegram", chat_id, kind, f"Gia đình {surname}", name, 1)

    def profiles(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for i in range(self.scale.families):
            fid = i + 1
            yield (fid, "region", rng.choice(("Hà Nội", "Huế", "Sài Gòn", "Cần Thơ", "Đà Nẵng")))
            yield (fid, "language", "vi" if rng.random() < 0.8 else "en")
            if rng.random() < 0.5:
                yield (fid, "kitchen", "bếp gas, nồi đất, không có lò nướng")
            if rng.random() < 0.3:
                yield (fid, "diet", "bà nội ăn chay ngày rằm và mùng một")

    def member_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        member_id = 0
        for i in range(self.scale.families):
            _, kind = family_chat_id(i)
            count = 1 if kind == "private" else rng.randint(3, 6)
            people = []
            for slot in range(count):
                member_id += 1
                name = f"{rng.choice(GIVEN_NAMES)} {SURNAMES[i % len(SURNAMES)]}"
                role = "admin" if slot == 0 else "member"
                people.append((member_id, name))
                yield (member_id, i + 1, member_user_id(i, slot), name, role, "vi")
            self.members.append(people)

    def facts(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        for i, people in enumerate(self.members):
            for _ in range(rng.randint(0, 12)):
                yield (i + 1, rng.choice(people)[0], rng.choice(FACTS))

    def _norm(self, text: str) -> str:
        cached = self.norm_cache.get(text)
        if cached is None:
            cached = self.norm_cache[text] = normalize_question(text)
        return cached

    def history(self, start: datetime) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """Messages in global time order; every third user message is answered by Hearth."""
        rng = self.rng
        scale = self.scale
        weights = [1.0 / (1 + (i % 50)) for i in range(scale.families)]  # some chatty families
        span = timedelta(days=365).total_seconds()
        msg_id = 0
        answer_id = 0
        entry_hi = max(1, scale.entries)
        families = rng.choices(range(scale.families), weights=weights, k=scale.messages)
        for n, fi in enumerate(families):
            if msg_id >= scale.messages:
                break
            fid = fi + 1
            ts = _iso(start + timedelta(seconds=span * n / scale.messages))
            member, _name = rng.choice(self.members[fi])
            msg_id += 1
            if rng.random() < 0.66 or msg_id >= scale.messages:
                text = rng.choice(VI_CHATTER).format(dish=rng.choice(DISHES))
                yield "message", (msg_id, fid, member, f"tg{msg_id}", "user", text, "ignored", ts)
                continue
            question = phrase_question(rng)
            yield "message", (msg_id, fid, member, f"tg{msg_id}", "user", question, "answered", ts)
            answer_id += 1
            dish = rng.choice(DISHES)
            answer = rng.choice(VI_ANSWERS).format(dish=dish)
            used = sorted({rng.randint(1, entry_hi) for _ in range(rng.randint(0, 3))})
            prompt = [
                {"role": "system", "content": "You are Hearth, a helpful family assistant."},
                {"role": "user", "content": question},
            ]
            yield (
                "answer",
                (
                    answer_id,
                    fid,
                    msg_id,
                    member,
                    question,
                    self._norm(question),
                    answer,
                    json.dumps(prompt, ensure_ascii=False),
                    json.dumps({"entries": used}),
                    ts,
                ),
            )
            for rank, entry in enumerate(used, 1):
                yield "answer_entry", (answer_id, entry, rank)
            yield "answer_message", (fid, f"bot{answer_id}", answer_id)
            if rng.random() < 0.1:
                yield "return", (fid, answer_id, member, f"helpful:{answer_id}:{member}", ts)
            msg_id += 1
            yield (
                "message",
                (
                    msg_id,
                    fid,
                    None,
                    f"answer:{answer_id}",
                    "assistant",
                    answer,
                    "answered",
                    ts,
                ),
            )


SQL = {
    "message": "INSERT INTO messages (id, family_id, member_id, platform_message_id, role, text,"
    " status, created_at, answered_at) VALUES (?,?,?,?,?,?,?,?,?)",
    "answer": "INSERT INTO answers (id, family_id, message_id, member_id, question, question_norm,"
    " answer, prompt_json, context_json, source, model, endpoint, latency_ms, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,'model','bench-model','loopback',900,?)",
    "answer_entry": "INSERT OR IGNORE INTO answer_entries (answer_id, entry_id, rank) VALUES (?,?,?)",
    "answer_message": "INSERT INTO answer_messages (family_id, platform_message_id, answer_id)"
    " VALUES (?,?,?)",
    "return": "INSERT OR IGNORE INTO returns (family_id, answer_id, member_id, kind, dedup_key,"
    " created_at) VALUES (?,?,?,'helpful',?,?)",
}


def _write_history(conn: sqlite3.Connection, world: _World, stats: BuildStats) -> None:
    start = datetime.now(UTC) - timedelta(days=366)
    buffers: dict[str, list[tuple[Any, ...]]] = {k: [] for k in SQL}

    def flush() -> None:
        conn.execute("BEGIN")
        # answers point at messages and messages are written first in each batch
        for kind in ("message", "answer", "answer_entry", "answer_message", "return"):
            rows = buffers[kind]
            if rows:
                conn.executemany(SQL[kind], rows)
                rows.clear()
        conn.execute("COMMIT")

    pending = 0
    for kind, row in world.history(start):
        if kind == "message":
            row = (*row, row[-1] if row[6] == "answered" else None)
            stats.messages += 1
        elif kind == "answer":
            stats.answers += 1
        buffers[kind].append(row)
        pending += 1
        if pending >= BATCH:
            flush()
            pending = 0
    flush()


def _write_summaries(conn: sqlite3.Connection, families: int) -> None:
    """Families with a long history have a rolling summary up to all but their last turns."""
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO summaries (family_id, text, upto_message_id)"
        " SELECT f.id, '- Mẹ: Cuối tuần cả nhà về quê ăn giỗ ông.\n- Hearth: Đã ghi nhớ.',"
        " (SELECT m.id FROM messages m WHERE m.family_id = f.id ORDER BY m.id DESC"
        "  LIMIT 1 OFFSET 40)"
        " FROM families f WHERE f.id <= ?"
        " AND (SELECT m.id FROM messages m WHERE m.family_id = f.id ORDER BY m.id DESC"
        "  LIMIT 1 OFFSET 40) IS NOT NULL",
        (families,),
    )
    conn.execute("COMMIT")


def build_core(path: Path, scale: Scale) -> BuildStats:
    """Migrate a fresh database at `path` and fill every core table at `scale`."""
    began = time.perf_counter()
    migrate.upgrade(path)
    world = _World(scale)
    stats = BuildStats()
    conn = _connect(path)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO families (id, platform, chat_id, kind, title, name, greeted)"
            " VALUES (?,?,?,?,?,?,?)",
            world.families(),
        )
        conn.executemany(
            "INSERT INTO family_profile (family_id, key, value) VALUES (?,?,?)", world.profiles()
        )
        members = list(world.member_rows())
        conn.executemany(
            "INSERT INTO members (id, family_id, user_id, display_name, role, language)"
            " VALUES (?,?,?,?,?,?)",
            members,
        )
        facts = list(world.facts())
        conn.executemany("INSERT INTO facts (family_id, member_id, text) VALUES (?,?,?)", facts)
        conn.execute("COMMIT")
        stats.families, stats.members, stats.facts = scale.families, len(members), len(facts)
        _write_history(conn, world, stats)
        _write_summaries(conn, scale.families)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    stats.seconds = time.perf_counter() - began
    return stats


def entry_records(count: int, families: int, seed: int = 9, start: int = 0) -> list[dict[str, Any]]:
    """Knowledge entries as import records: mostly global, some owned by a family."""
    rng = random.Random(seed + start)
    records = []
    for n in range(start, start + count):
        family = None if rng.random() < 0.8 or families == 0 else rng.randint(1, families)
        records.append(entry_record(rng, n, family))
    return records
