"""`hearth db upgrade|status|backup PATH`."""

from __future__ import annotations

import argparse
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import db_check
from bot.store import migrate


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
    made_folder = not target.parent.is_dir()
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
    if made_folder:  # say so: a typo in the path would otherwise go unnoticed
        print(f"created the folder {target.parent} (it did not exist)")
    print(f"backup written to {target} (integrity ok)")
    return 0


def _check(args: argparse.Namespace) -> int:
    settings = _settings()
    db_check.require_intact(settings.db_path)  # DatabaseDamaged: one line, exit 1
    print(f"database {settings.db_path}: quick_check ok")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from bot.cli import CliUsageError

    settings = _settings()
    source, target = Path(args.path), Path(settings.db_path)
    if not source.is_file():
        raise CliUsageError(f"no backup file at {source}")
    if source.resolve() == target.resolve():
        raise CliUsageError("the backup must be another file than HEARTH_DB")
    found = db_check.problems(source)
    if found:
        raise CliUsageError(f"the backup {source} is damaged too: {found[0]}")
    kept = _set_aside(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=-1)
    finally:
        dst.close()
        src.close()
    migrate.upgrade(target)
    print(
        f"restored {target} from {source}" + (f"; the old file is kept as {kept}" if kept else "")
    )
    return 0


def _set_aside(path: Path) -> Path | None:
    """Move the current database (and its WAL files) out of the way, never deleting it."""
    if not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    kept = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.rename(f"{kept}{suffix}")
    return kept


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
    ck = dsub.add_parser("check", help="PRAGMA quick_check: is the database sound?")
    ck.set_defaults(func=_check)
    rs = dsub.add_parser(
        "restore",
        help="put a backup in place of HEARTH_DB (stop Hearth first; the old file is kept)",
    )
    rs.add_argument("path", help="a file made by `hearth db backup`")
    rs.set_defaults(func=_restore)
