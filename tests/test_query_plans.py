"""Every query on the hot path uses an index: no full scan of messages, answers or entries.

The statements are not listed by hand: the real app handles a chat turn, a repeat
question, a reply, a button press, a reaction, memory commands and a knowledge search
while SQLite traces every statement it runs; each traced statement is then put through
EXPLAIN QUERY PLAN on a database with realistic statistics (synthetic history, ANALYZE).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from bot.app import Hearth, build
from bot.bench.synthetic import Scale, build_core, family_chat_id, member_user_id
from bot.core.types import CallbackEvent, ChatKind, Incoming
from tests.conftest import make_settings
from tests.support import RecordingOutbox

BIG_TABLES = ("messages", "answers", "entries", "answer_messages", "returns")
SKIP = re.compile(r"^\s*(--|(BEGIN|COMMIT|ROLLBACK|PRAGMA|ANALYZE|SAVEPOINT|RELEASE)\b)", re.I)
SCAN = re.compile(r"\bSCAN (\w+)(?: AS (\w+))?")


def full_scans(plan: list[str], sql: str) -> list[str]:
    """Plan lines that read a whole big table (an index *search* is fine, a scan is not)."""
    aliases = {t: t for t in BIG_TABLES}
    for table in BIG_TABLES:
        for alias in re.findall(rf"\b{table}\s+(?:AS\s+)?(\w+)", sql, re.I):
            aliases[alias] = table
    bad = []
    for line in plan:
        for match in SCAN.finditer(line):
            name = match.group(2) or match.group(1)
            if name in aliases or match.group(1) in BIG_TABLES:
                bad.append(line)
    return bad


def explain(db_path: Path, sql: str) -> list[str]:
    """EXPLAIN QUERY PLAN details for one (already expanded) statement."""
    conn = sqlite3.connect(db_path)
    try:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    finally:
        conn.close()


def test_full_scans_detects_scans_and_allows_searches() -> None:
    assert full_scans(["SCAN messages"], "SELECT * FROM messages")
    assert full_scans(["SCAN m"], "SELECT * FROM messages m")
    assert full_scans(["SCAN a USING INDEX answers_created"], "SELECT 1 FROM answers AS a")
    assert not full_scans(
        ["SEARCH m USING INDEX messages_family_recent (family_id=? AND rowid>?)"],
        "SELECT * FROM messages m",
    )
    assert not full_scans(["SCAN families"], "SELECT * FROM families")


@pytest.fixture
async def traced(tmp_path: Path) -> AsyncIterator[tuple[Hearth, list[str], Path]]:
    db_path = tmp_path / "hearth.db"
    build_core(db_path, Scale(families=30, messages=6_000, entries=0))
    app = await build(make_settings(tmp_path, HEARTH_MEMBER_RATE_PER_MIN="1000"))
    statements: list[str] = []
    db = app.services.db
    for conn in db.connections:
        await conn.set_trace_callback(statements.append)
    try:
        yield app, statements, db_path
    finally:
        await app.aclose()


async def _add_knowledge(app: Hearth) -> None:
    try:
        from knowledge.store import KnowledgeBase
    except ImportError:
        return
    if app.services.kb is None:
        app.services.kb = KnowledgeBase(app.services.db)
    records = [
        {"title": f"Cách nấu canh chua số {n}", "body": "Nấu với me, cà chua, dứa.", "tags": []}
        for n in range(20)
    ]
    await app.services.kb.import_records(records, None)


async def test_hot_path_queries_use_indexes(
    traced: tuple[Hearth, list[str], Path],
) -> None:
    app, statements, db_path = traced
    await _add_knowledge(app)
    pipeline = app.pipeline
    chat_id, kind = family_chat_id(0)  # a group with history
    user = member_user_id(0, 1)

    def msg(text: str, mid: str, **extra: object) -> Incoming:
        return Incoming("telegram", chat_id, user, mid, text, kind, "Lan", **extra)  # type: ignore[arg-type]

    outbox = RecordingOutbox()
    await pipeline.handle(msg("Nấu canh chua thế nào?", "q1"), outbox)
    answer = outbox.last
    assert answer.answer_id is not None
    await pipeline.handle(msg("Nấu canh chua thế nào?", "q2"), outbox)
    await pipeline.handle(msg("cảm ơn nhé", "q3", reply_to_message_id="sent-1"), outbox)
    await pipeline.handle_callback(
        CallbackEvent(
            "telegram",
            chat_id,
            user,
            f"fb:up:{answer.answer_id}",
            chat_kind=cast(ChatKind, kind),  # family_chat_id gives "group" or "private"
        )
    )
    await pipeline.handle_reaction("telegram", chat_id, user, "sent-1", "❤")
    await pipeline.handle(msg("/remember Bà nội không ăn cay", "q4"), outbox)
    await pipeline.handle(msg("/memory", "q5"), outbox)
    await pipeline.handle(msg("chuyện nhà thôi", "q6", addressed=False), outbox)
    await pipeline.resume_pending("telegram", lambda _chat: RecordingOutbox())

    checked = 0
    problems = []
    for sql in dict.fromkeys(statements):
        if SKIP.match(sql):
            continue
        plan = explain(db_path, sql)
        checked += 1
        bad = full_scans(plan, sql)
        if bad:
            problems.append(f"{sql}\n    {bad}")
    assert checked >= 15, f"only {checked} statements traced: {statements}"
    assert not problems, "full-table scans on the hot path:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT m.role, m.text FROM messages m LEFT JOIN members mem ON mem.id = m.member_id"
            " WHERE m.family_id = 3 AND m.id > 0 AND m.status != 'pending'"
            " ORDER BY m.id DESC LIMIT 60",
            "messages_family_recent",
        ),
        (
            "SELECT a.id FROM answers a WHERE a.family_id = 3 AND a.question_norm = 'x'"
            " AND a.created_at <= '2030' ORDER BY a.id DESC LIMIT 5",
            "answers_family_question",
        ),
        ("SELECT id, text FROM facts WHERE family_id = 3 ORDER BY id", "facts_family"),
        (
            "SELECT m.id FROM messages m JOIN families f ON f.id = m.family_id"
            " WHERE m.status = 'pending' AND m.role = 'user' AND f.platform = 'telegram'"
            " AND m.attempts < 3 ORDER BY m.id",
            "messages_pending",
        ),
    ],
)
def test_named_hot_queries_use_their_index(tmp_path: Path, sql: str, index: str) -> None:
    db_path = tmp_path / "plans.db"
    build_core(db_path, Scale(families=30, messages=6_000, entries=0))
    plan = " | ".join(explain(db_path, sql))
    assert index in plan, plan
