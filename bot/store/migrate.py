"""Numbered SQL migrations, applied in order, each all-or-nothing, recorded in a table."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One shipped SQL file."""

    version: int
    name: str
    sql: str


class MigrationError(Exception):
    """A migration failed; the database is left exactly as it was before it."""


def shipped_migrations() -> list[Migration]:
    """Read the SQL files from the installed `migrations` package, so cwd never matters."""
    found = []
    for item in resources.files("migrations").iterdir():
        match = NAME_RE.match(item.name)
        if match:
            found.append(Migration(int(match[1]), match[2], item.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers in {versions}")
    return found


def connect(path: Path) -> sqlite3.Connection:
    """A plain connection with Hearth's pragmas; used by the runner and the CLI."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def _ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    )


def applied_versions(conn: sqlite3.Connection) -> dict[int, str]:
    """Versions already recorded in this database."""
    _ensure_table(conn)
    return {v: n for v, n in conn.execute("SELECT version, name FROM schema_migrations")}


def pending(conn: sqlite3.Connection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Migrations this database has not seen yet."""
    done = applied_versions(conn)
    return [m for m in (migrations or shipped_migrations()) if m.version not in done]


def apply_one(conn: sqlite3.Connection, migration: Migration) -> None:
    """Run one file inside one transaction: SQLite DDL is transactional, so failure undoes all."""
    script = (
        "BEGIN IMMEDIATE;\n"
        f"{migration.sql}\n;\n"
        f"INSERT INTO schema_migrations(version, name) VALUES ({migration.version}, "
        f"'{migration.name}');\nCOMMIT;"
    )
    try:
        conn.executescript(script)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise MigrationError(
            f"migration {migration.version:04d}_{migration.name} failed: {exc}"
        ) from exc


def upgrade(path: Path, migrations: list[Migration] | None = None) -> list[Migration]:
    """Bring a database file up to date; returns what was applied."""
    conn = connect(path)
    try:
        todo = pending(conn, migrations)
        for migration in todo:
            apply_one(conn, migration)
        return todo
    finally:
        conn.close()


def backup(source: Path, target: Path) -> None:
    """Copy through SQLite's online backup API: consistent even while the bot writes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    src = connect(source)
    dst = sqlite3.connect(target)
    try:
        # One step: a stepwise backup restarts whenever the bot commits, and under a steady
        # stream of commits never finishes. In WAL mode one read snapshot does not block writers.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
