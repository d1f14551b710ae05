"""One answer per turn: a turn killed after its answer was written is answered again at the
next start without leaving the first answer behind, and a constraint holds it so."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from bot.store import migrate
from tests.servers.openai_server import running_openai_server
from tests.servers.zalo_api import running_zalo_api
from tests.support.hearth_process import start_hearth_run
from tests.test_faults_zalo import _wait
from tests.test_hostile_cli import hearth_env

QUESTION = "Bà hỏi: làm bánh chưng thế nào?"


def _answers_per_message(db: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT a.message_id, count(*) FROM answers a JOIN messages m ON m.id = a.message_id"
            " WHERE m.text = ? GROUP BY a.message_id",
            (QUESTION,),
        ).fetchall()


def _assistant_turns(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute("SELECT count(*) FROM messages WHERE role = 'assistant'").fetchone()[0]
        )


def test_item_l_sigkill_during_a_reply_leaves_one_answer_row(tmp_path: Path) -> None:
    """Item L: `hearth run` is killed while the answer it has written cannot be delivered;
    after the restart the turn has exactly one answer row (today: two, the first an orphan
    that `hearth logs` and the report count)."""
    with running_zalo_api(long_poll_cap_s=0.2) as api, running_openai_server() as llm:
        env = hearth_env(
            tmp_path,
            ZALO_BOT_TOKEN=api.token,
            ZALO_API_BASE_URL=api.base_url,
            LLM_BASE_URL=llm.base_url,
            LLM_MODEL="m",
        )
        db = tmp_path / "hearth.db"
        first = start_hearth_run(tmp_path, env)
        try:
            _wait(lambda: api.calls_of("getUpdates"), 20, "the first process to poll")
            api.push_text("xin chào", chat_id="kill")
            api.wait_for_sent("kill", 1, 20)  # the first-contact greeting
            api.fail_next("sendMessage", code=502, times=10_000, description="Bad Gateway")
            api.push_text(QUESTION, chat_id="kill")
            _wait(lambda: _answers_per_message(db), 20, "the answer to be written")
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        with api.state.cond:
            api.state.failures.clear()
        second = start_hearth_run(tmp_path, env)
        try:
            _wait(lambda: len(api.sent_to("kill")) >= 2, 30, "the restarted process to answer")
            second.send_signal(signal.SIGTERM)
            second.wait(15)
        finally:
            if second.poll() is None:
                second.kill()
    assert [n for _, n in _answers_per_message(db)] == [1]
    assert _assistant_turns(db) == 1


def _old_database_with_an_orphan(path: Path) -> None:
    """A database as the code before migration 0008 left it after a killed turn: message 1
    has an orphan answer (10, never delivered, with a return from a repeated question) and
    the answer that was delivered (11); message 2 has one answer."""
    migrate.upgrade(path, [m for m in migrate.shipped_migrations() if m.version < 8])
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        INSERT INTO families (id, platform, chat_id) VALUES (1, 'zalo', 'kill');
        INSERT INTO members (id, family_id, user_id) VALUES (1, 1, 'u');
        INSERT INTO messages (id, family_id, member_id, platform_message_id, text, status)
            VALUES (1, 1, 1, 'p1', 'q1', 'answered'), (2, 1, 1, 'p2', 'q2', 'answered');
        INSERT INTO answers (id, family_id, message_id, member_id, question, answer)
            VALUES (10, 1, 1, 1, 'q1', 'orphan'), (11, 1, 1, 1, 'q1', 'delivered'),
                   (12, 1, 2, 1, 'q2', 'only');
        INSERT INTO messages (family_id, platform_message_id, role, text, status) VALUES
            (1, 'answer:10', 'assistant', 'orphan', 'answered'),
            (1, 'answer:11', 'assistant', 'delivered', 'answered'),
            (1, 'answer:12', 'assistant', 'only', 'answered');
        INSERT INTO answer_messages (family_id, platform_message_id, answer_id)
            VALUES (1, 'z11', 11), (1, 'z12', 12);
        INSERT INTO returns (family_id, answer_id, member_id, kind, dedup_key)
            VALUES (1, 10, 1, 'ask_again', 'ask_again:10');
        """
    )
    conn.commit()
    conn.close()


def test_item_l_migration_removes_orphan_answers_and_adds_the_constraint(tmp_path: Path) -> None:
    """Item L: migrating a database that already has an orphan answer keeps the delivered
    one, drops the orphan with its assistant turn and its return, and from then on a second
    answer to the same message is refused by the database."""
    db = tmp_path / "old.db"
    _old_database_with_an_orphan(db)
    migrate.upgrade(db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT id, answer FROM answers ORDER BY id").fetchall() == [
            (11, "delivered"),
            (12, "only"),
        ]
        assert conn.execute(
            "SELECT platform_message_id FROM messages WHERE role = 'assistant' ORDER BY id"
        ).fetchall() == [("answer:11",), ("answer:12",)]
        assert conn.execute("SELECT count(*) FROM returns").fetchone() == (0,)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO answers (family_id, message_id, question, answer)"
                " VALUES (1, 1, 'q1', 'again')"
            )
    finally:
        conn.close()
