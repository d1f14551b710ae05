"""`hearth db upgrade|status|backup PATH`."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path
from typing import Any

from bot.core import migrate


def _settings() -> Any:
    from bot.cli import settings_from_env

    return settings_from_env()


def _upgrade(args: argparse.Namespace) -> int:
    settings = _settings()
    applied = migrate.upgrade(settings.db_path)
    if args.json:
        from bot.cli import print_json

        print_json({"applied": [f"{m.version:04d}_{m.name}" for m in applied]})
    elif applied:
        for m in applied:
            print(f"applied {m.version:04d}_{m.name}")
    else:
        print("database is up to date")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = _settings()
    migrate.upgrade(settings.db_path)
    conn = migrate.connect(settings.db_path)
    try:
        done = migrate.applied_versions(conn)
        rows = {
            r[0]: r[1] for r in conn.execute("SELECT version, applied_at FROM schema_migrations")
        }
        integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        conn.close()
    items = [
        {
            "version": m.version,
            "name": m.name,
            "applied": m.version in done,
            "applied_at": rows.get(m.version),
        }
        for m in migrate.shipped_migrations()
    ]
    if args.json:
        from bot.cli import print_json

        print_json({"path": str(settings.db_path), "migrations": items, "integrity": integrity})
        return 0
    print(f"database: {settings.db_path}  (integrity: {integrity})")
    for it in items:
        mark = "✓" if it["applied"] else "·"
        print(f" {mark} {it['version']:04d}_{it['name']:<24} {it['applied_at'] or 'pending'}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from bot.cli import CliUsageError

    settings = _settings()
    target = Path(args.path)
    if target.resolve() == Path(settings.db_path).resolve():
        raise CliUsageError("backup path must differ from HEARTH_DB")
    if target.exists() and target.is_dir():
        raise CliUsageError(f"{target} is a directory")
    migrate.upgrade(settings.db_path)
    migrate.backup(settings.db_path, target)
    check = sqlite3.connect(target)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if ok != "ok":
        print(f"backup written but integrity_check says: {ok}")
        return 1
    print(f"backup written to {target} (integrity ok)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `db` noun."""
    db = sub.add_parser("db", help="database migrations and backups")
    dsub = db.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser("upgrade", help="apply pending migrations")
    up.add_argument("--json", action="store_true")
    up.set_defaults(func=_upgrade)
    st = dsub.add_parser("status", help="show applied and pending migrations")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=_status)
    bk = dsub.add_parser("backup", help="consistent copy, safe while the bot runs")
    bk.add_argument("path")
    bk.set_defaults(func=_backup)
