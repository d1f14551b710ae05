"""`hearth db backup` while the bot writes, and the documented restore (docs/promises.md)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
import time
from pathlib import Path

from bot.app import build
from tests.conftest import make_settings
from tests.support import RecordingOutbox, msg
from tests.test_hostile_cli import hearth_env, run_hearth

BACKUP_TIMEOUT_S = 15


def _fill(db_path: Path, family_id: int, rows: int) -> None:
    """Make the database big enough that a backup takes many steps (several MB)."""
    conn = sqlite3.connect(db_path)
    try:
        conn.executemany(
            "INSERT INTO messages (family_id, platform_message_id, role, text, status)"
            " VALUES (?, ?, 'user', ?, 'answered')",
            [
                (family_id, f"fill-{i}", f"tin nhắn cũ số {i} " + "cá kho " * 300)
                for i in range(rows)
            ],
        )
        conn.commit()
    finally:
        conn.close()


def _check(path: Path) -> tuple[str, int]:
    conn = sqlite3.connect(path)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        n = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        return ok, n
    finally:
        conn.close()


async def test_backup_while_the_bot_writes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    hearth = await build(settings)
    stop = asyncio.Event()
    written = 0

    async def writer() -> None:
        nonlocal written
        out = RecordingOutbox()
        while not stop.is_set():
            await hearth.pipeline.handle(msg(f"/remember điều số {written}", chat="busy"), out)
            written += 1
            await asyncio.sleep(0)

    try:
        fam = await hearth.services.families.ensure("console", "busy", "private")
        await asyncio.to_thread(_fill, settings.db_path, fam.id, 2_500)
        task = asyncio.create_task(writer())
        await asyncio.sleep(0.2)
        results = []
        for i in range(2):
            target = tmp_path / f"backup-{i}.db"
            started = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "db",
                "backup",
                str(target),
                cwd=tmp_path,
                env=hearth_env(tmp_path),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await asyncio.wait_for(proc.communicate(), BACKUP_TIMEOUT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise AssertionError("backup never finished while the bot was writing") from None
            results.append((proc.returncode, out, err, target, time.monotonic() - started))
        stop.set()
        await task
    finally:
        stop.set()
        await hearth.aclose()
    assert written > 10, "the writer did not run during the backups"
    for code, out, err, target, _secs in results:
        assert code == 0, err.decode()
        assert b"integrity ok" in out
        ok, n = _check(target)
        assert ok == "ok"
        assert n >= 2_500
    live_ok, live_n = _check(settings.db_path)
    assert live_ok == "ok" and live_n >= written


def test_documented_restore(tmp_path: Path) -> None:
    """Stop the bot, copy the backup over HEARTH_DB (removing -wal/-shm), start again."""
    live = tmp_path / "hearth.db"
    seed = run_hearth(
        tmp_path, ["chat", "--family", "home"], "/remember Bà nội không ăn cay\n".encode()
    )
    assert seed.returncode == 0, seed.stderr.decode()
    backup = tmp_path / "backups" / "hearth-2026-11-24.db"
    proc = run_hearth(tmp_path, ["db", "backup", str(backup)])
    assert proc.returncode == 0, proc.stderr.decode()

    # disaster: the live database is damaged
    live.write_bytes(b"this is not a database" * 100)

    # restore, exactly as docs/promises.md says
    for suffix in ("-wal", "-shm"):
        Path(str(live) + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, live)
    status = run_hearth(tmp_path, ["db", "status", "--json"])
    assert status.returncode == 0, status.stderr.decode()
    assert '"integrity": "ok"' in status.stdout.decode()
    chat = run_hearth(tmp_path, ["chat", "--family", "home"], b"/memory\n")
    assert chat.returncode == 0, chat.stderr.decode()
    assert "Bà nội không ăn cay" in chat.stdout.decode()


def test_backup_refuses_to_overwrite_the_live_database(tmp_path: Path) -> None:
    run_hearth(tmp_path, ["db", "upgrade"])
    proc = run_hearth(tmp_path, ["db", "backup", str(tmp_path / "hearth.db")])
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1


def test_backup_finishes_under_a_steady_stream_of_commits(tmp_path: Path) -> None:
    """SQLite restarts a stepwise backup whenever another connection commits; it must finish."""
    import threading

    from bot.store import migrate

    live = tmp_path / "live.db"
    migrate.upgrade(live)
    seed = migrate.connect(live)
    seed.execute(
        "INSERT INTO families (platform, chat_id, kind) VALUES ('console', 'x', 'private')"
    )
    seed.close()
    _fill(live, 1, 8_000)
    stop = threading.Event()
    commits = [0]

    def writer() -> None:
        conn = migrate.connect(live)
        try:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO messages (family_id, platform_message_id, role, text, status)"
                    " VALUES (1, ?, 'user', 'x', 'answered')",
                    (f"w{commits[0]}",),
                )
                commits[0] += 1
                time.sleep(0.001)
        finally:
            conn.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    done = threading.Event()
    failure: list[BaseException] = []

    def run_backup() -> None:
        try:
            migrate.backup(live, tmp_path / "copy.db")
        except BaseException as exc:  # reported below, in the test thread
            failure.append(exc)
        finally:
            done.set()

    started = time.monotonic()
    threading.Thread(target=run_backup, daemon=True).start()
    finished = done.wait(BACKUP_TIMEOUT_S)
    stop.set()
    thread.join()
    assert finished, f"backup still restarting after {BACKUP_TIMEOUT_S} s ({commits[0]} commits)"
    assert not failure, failure
    assert commits[0] > 0
    assert _check(tmp_path / "copy.db")[0] == "ok"
    assert time.monotonic() - started < BACKUP_TIMEOUT_S
