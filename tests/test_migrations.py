"""Migrations apply in order on empty and older databases, and a failure changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store import migrate


def schema(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(
            (r[0], r[1] or "")
            for r in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
            )
        )
    finally:
        conn.close()


def test_empty_database_gets_every_migration(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    applied = migrate.upgrade(db)
    shipped = migrate.shipped_migrations()
    assert [m.version for m in applied] == [m.version for m in shipped]
    assert applied[0].version == 1
    conn = migrate.connect(db)
    assert set(migrate.applied_versions(conn)) == {m.version for m in shipped}
    conn.close()
    assert migrate.upgrade(db) == []  # idempotent


def test_older_database_is_brought_up_to_date(tmp_path: Path) -> None:
    shipped = migrate.shipped_migrations()
    old = tmp_path / "old.db"
    migrate.upgrade(old, shipped[:1])
    conn = sqlite3.connect(old)
    conn.execute("INSERT INTO families (platform, chat_id) VALUES ('telegram', '-1')")
    conn.commit()
    conn.close()
    applied = migrate.upgrade(old)
    assert [m.version for m in applied] == [m.version for m in shipped[1:]]
    fresh = tmp_path / "fresh.db"
    migrate.upgrade(fresh)
    # the same schema whichever way the database got there, and the old data kept
    assert schema(old) == schema(fresh)
    conn = sqlite3.connect(old)
    assert conn.execute("SELECT chat_id FROM families").fetchall() == [("-1",)]
    conn.close()


def test_failing_migration_leaves_database_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    migrate.upgrade(db)
    before = schema(db)
    bad = migrate.Migration(
        9999,
        "broken",
        "CREATE TABLE half_done (id INTEGER);\nINSERT INTO families (platform, chat_id) VALUES"
        " ('x', 'y');\nSELECT * FROM no_such_table;",
    )
    with pytest.raises(migrate.MigrationError, match="9999_broken"):
        migrate.upgrade(db, [*migrate.shipped_migrations(), bad])
    assert schema(db) == before
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM families").fetchone() == (0,)
    assert 9999 not in {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    conn.close()


def test_backup_is_consistent_copy(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    migrate.upgrade(db)
    conn = migrate.connect(db)
    conn.execute("INSERT INTO families (platform, chat_id) VALUES ('zalo', 'abc')")
    conn.close()
    target = tmp_path / "copy" / "backup.db"
    migrate.backup(db, target)
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT chat_id FROM families").fetchall() == [("abc",)]
    copy.close()


def test_item_b_migration_repairs_groups_stored_as_private(tmp_path: Path) -> None:
    """Hardening B: a Telegram group a CLI import stored as 'private' is a group again, and
    the members that kind made admins are members (real chat admins return at their next
    message); a private chat and a family that wrote keep their kind."""
    shipped = migrate.shipped_migrations()
    db = tmp_path / "old.db"
    migrate.upgrade(db, [m for m in shipped if m.version < 6])
    conn = sqlite3.connect(db)
    for fid, platform, chat, kind in (
        (1, "telegram", "-100555", "private"),
        (2, "telegram", "777", "private"),
        (3, "zalo", "imported", "private"),
        (4, "zalo", "chatted", "private"),
    ):
        conn.execute(
            "INSERT INTO families (id, platform, chat_id, kind) VALUES (?, ?, ?, ?)",
            (fid, platform, chat, kind),
        )
    conn.execute("INSERT INTO members (family_id, user_id, role) VALUES (1, 'u1', 'admin')")
    conn.execute("INSERT INTO members (family_id, user_id, role) VALUES (2, '777', 'admin')")
    conn.execute("INSERT INTO members (family_id, user_id, role) VALUES (4, 'z', 'admin')")
    conn.commit()
    conn.close()
    migrate.upgrade(db)
    conn = sqlite3.connect(db)
    kinds = dict(conn.execute("SELECT id, kind FROM families"))
    roles = dict(conn.execute("SELECT family_id, role FROM members"))
    conn.close()
    assert kinds == {1: "group", 2: "private", 3: "group", 4: "private"}
    assert roles == {1: "member", 2: "admin", 4: "admin"}
