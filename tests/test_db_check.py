"""A database damaged in the middle is found at start: `hearth run` and `hearth db check`
refuse it with one line naming the restore command, and `hearth db restore` brings a backup
back."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tests.kb_support import open_kb
from tests.test_hostile_cli import run_hearth

PAGE = 4096


def _database_with_entries(path: Path, count: int = 800) -> None:
    asyncio.run(_import(path, count))
    conn = sqlite3.connect(path)  # everything in the main file, nothing left in the WAL
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()


async def _import(path: Path, count: int) -> None:
    db, kb = await open_kb(path)
    try:
        records = [
            {"title": f"Món số {n}", "body": f"Cách nấu món số {n}: " * 8} for n in range(count)
        ]
        report = await kb.import_records(records, None)
        assert len(report.imported) == count
    finally:
        await db.close()


def _damage_the_middle(path: Path) -> None:
    """Zero a few pages halfway through the file: the header and schema stay readable."""
    size = path.stat().st_size
    middle = (size // PAGE // 2) * PAGE
    with path.open("r+b") as f:
        f.seek(middle)
        f.write(b"\x00" * PAGE * 3)


def _one_line(stderr: bytes) -> str:
    text = stderr.decode("utf-8", "replace").strip()
    assert "Traceback" not in text, text
    assert len(text.splitlines()) == 1, text
    return text


def test_item_k_a_database_damaged_in_the_middle_is_refused_at_start(tmp_path: Path) -> None:
    """Item K: the damaged file still opens (sqlite3 reads its schema), so today `hearth run`
    starts on it; now `hearth db check` and `hearth run` refuse it with one line."""
    db = tmp_path / "hearth.db"
    _database_with_entries(db)
    _damage_the_middle(db)
    with sqlite3.connect(db) as conn:  # the damage is invisible to a plain open
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0

    check = run_hearth(tmp_path, ["db", "check"])
    assert check.returncode == 1, check
    line = _one_line(check.stderr)
    assert "damaged" in line and "hearth db restore" in line, line

    run = run_hearth(tmp_path, ["run"], stdin=b"xin chao\n")
    assert run.returncode == 1, run
    assert _one_line(run.stderr) == line
    assert run.stdout == b""  # not one answer served from it


def test_item_k_db_check_passes_a_sound_database_and_restore_brings_a_backup_back(
    tmp_path: Path,
) -> None:
    """Item K: `hearth db check` says ok (exit 0) on a sound file, and `hearth db restore`
    puts a checked backup in place of a damaged database, keeping the damaged file aside."""
    db = tmp_path / "hearth.db"
    _database_with_entries(db, 200)
    ok = run_hearth(tmp_path, ["db", "check"])
    assert ok.returncode == 0, ok.stderr
    assert b"ok" in ok.stdout
    backup = tmp_path / "backup.db"
    assert run_hearth(tmp_path, ["db", "backup", str(backup)]).returncode == 0
    _damage_the_middle(db)
    assert run_hearth(tmp_path, ["db", "check"]).returncode == 1

    restored = run_hearth(tmp_path, ["db", "restore", str(backup)])
    assert restored.returncode == 0, restored.stderr
    assert run_hearth(tmp_path, ["db", "check"]).returncode == 0
    kept = [
        p for p in tmp_path.glob("hearth.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))
    ]
    assert len(kept) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 200

    refused = run_hearth(tmp_path, ["db", "restore", str(tmp_path / "missing.db")])
    assert refused.returncode == 2
    _one_line(refused.stderr)
