"""`hearth kb import|search|export`: the knowledge base from the command line.

These commands never load the starter pack (only `hearth run` / `hearth chat` do).
Exit codes: 0 ok, 2 bad usage or input (a reason on stderr), 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from bot.core.config import Settings
from bot.core.errors import UsageError
from bot.store.db import Database
from bot.store.families import FamilyStore
from knowledge import transfer
from knowledge.formats import FORMATS
from knowledge.rows import Author
from knowledge.store import KnowledgeBase


def register(sub: Any) -> None:
    """Add the `kb` noun and its three commands to the top-level subparsers."""
    kb = sub.add_parser("kb", help="import, search and export the knowledge base")
    cmds = kb.add_subparsers(dest="kb_command", metavar="{import,search,export}")
    cmds.required = True

    imp = cmds.add_parser("import", help="import .md, .csv, .json or .jsonl entries")
    imp.add_argument("path", type=Path)
    imp.add_argument("--family", help="platform:chat_id or family name (default: global)")
    imp.set_defaults(func=cmd_import, is_async=True)

    search = cmds.add_parser("search", help="search like the bot does")
    search.add_argument("query", nargs="+", help="any text (use -- before text starting with -)")
    search.add_argument("--family")
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search, is_async=True)

    export = cmds.add_parser("export", help="write entries to stdout")
    export.add_argument("--family")
    export.add_argument("--format", choices=FORMATS, default="jsonl")
    export.add_argument("--output", "-o", type=Path, help="write to this file instead of stdout")
    export.set_defaults(func=cmd_export, is_async=True)


async def _open() -> tuple[Database, KnowledgeBase, FamilyStore]:
    _, db, kb, families = await _open_with_settings()
    return db, kb, families


async def _open_with_settings() -> tuple[Settings, Database, KnowledgeBase, FamilyStore]:
    from bot.cli import settings_from_env

    settings = settings_from_env()
    db = await Database.open(settings.db_path)
    return settings, db, KnowledgeBase(db), FamilyStore(db)


async def _family_id(families: FamilyStore, ref: str | None, *, create: bool = False) -> int | None:
    from bot.cli import CliUsageError

    if not ref:
        return None
    try:
        family = await (families.resolve_or_create(ref) if create else families.resolve(ref))
    except UsageError as exc:
        raise CliUsageError(exc.en) from None
    return family.id


async def cmd_import(args: argparse.Namespace) -> int:
    """Import a file; exit 2 if any record was invalid (the valid ones are kept)."""
    from bot.cli import CliUsageError

    path: Path = args.path
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise CliUsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    settings, db, kb, families = await _open_with_settings()
    try:
        family_id = await _family_id(families, args.family, create=True)
        progress = _progress_bar() if sys.stderr.isatty() else None
        try:
            report = await transfer.import_file(
                kb,
                path.name,
                data,
                family_id,
                Author(None, "cli"),
                limits=transfer.ImportLimits.of(settings),
                progress=progress,
            )
        except UsageError as exc:
            raise CliUsageError(exc.en) from None
        finally:
            if progress is not None:
                sys.stderr.write("\n")
    finally:
        await db.close()
    print(
        f"imported {len(report.imported)} entries"
        + (f", skipped {report.skipped} duplicates" if report.skipped else "")
        + (f", {len(report.errors)} invalid" if report.errors else "")
    )
    for where, why in report.errors:
        print(f"{path.name}: {where}: {why}", file=sys.stderr)
    for line in _left_out(report):
        print(f"{path.name}: {line}", file=sys.stderr)
    return 0 if report.ok else 2


def _progress_bar() -> transfer.Progress:
    """A progress line on the terminal, redrawn at most ten times a second (and at the end)."""
    shown = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - shown[0] < 0.1:
            return
        shown[0] = now
        pct = 100 * done // total if total else 100
        bar = "#" * (pct // 5)
        sys.stderr.write(f"\rimporting [{bar:<20}] {done}/{total} ({pct}%)")
        sys.stderr.flush()

    return show


def _left_out(report: transfer.ImportReport) -> list[str]:
    """What the caps left out, naming the setting that raises each cap."""
    lines = []
    if report.unread:
        read = report.found - report.unread
        lines.append(
            f"the file has {report.found} rows; only the first {read} were read"
            f" (HEARTH_IMPORT_MAX_ROWS={report.limits.max_rows})"
        )
    if report.over_family_cap:
        lines.append(
            f"{report.over_family_cap} valid entries were not imported: a family holds at most"
            f" {report.limits.family_max_entries} (HEARTH_FAMILY_MAX_ENTRIES)"
        )
    return lines


async def cmd_search(args: argparse.Namespace) -> int:
    """Print the best entries for a query; `--json` prints one JSON list."""
    from bot.cli import CliUsageError, print_json

    if not 1 <= args.limit <= 50:
        raise CliUsageError("--limit must be between 1 and 50")
    db, kb, families = await _open()
    try:
        family_id = await _family_id(families, args.family)
        hits = await kb.search(" ".join(args.query), family_id, limit=args.limit)
    finally:
        await db.close()
    if args.json:
        print_json(
            [
                {"id": h.entry.id, "title": h.entry.title, "score": h.score, "snippet": h.snippet}
                for h in hits
            ]
        )
    elif not hits:
        print("no matches")
    else:
        for h in hits:
            print(f"#{h.entry.id}\t{h.score:.3f}\t{h.entry.title}\n\t{h.snippet}")
    return 0


async def cmd_export(args: argparse.Namespace) -> int:
    """Write a scope's approved entries to stdout or --output (global without --family), and
    say on stderr how many went where."""
    from bot.cli import CliUsageError

    target: Path | None = args.output
    if target is not None and not target.parent.is_dir():
        raise CliUsageError(f"the folder {target.parent} does not exist")
    db, kb, families = await _open()
    try:
        family_id = await _family_id(families, args.family)
        text, count = await transfer.export_counted(kb, family_id, args.format)
    finally:
        await db.close()
    if target is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            await asyncio.to_thread(target.write_text, text, "utf-8")
        except OSError as exc:
            raise CliUsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    where = "stdout" if target is None else str(target)
    print(f"exported {count} entries ({args.format}) to {where}", file=sys.stderr)
    return 0
