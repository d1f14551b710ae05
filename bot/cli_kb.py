"""`hearth kb import|search|export`: the knowledge base from the command line.

These commands never load the starter pack (only `hearth run` / `hearth chat` do).
Exit codes: 0 ok, 2 bad usage or input (a reason on stderr), 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.core.config import load_settings
from bot.core.db import Database
from bot.core.errors import ConfigError, HearthError
from bot.core.families import FamilyStore
from knowledge.formats import FORMATS
from knowledge.rows import Author
from knowledge.store import KnowledgeBase

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add the `kb` noun and its three commands to the top-level subparsers."""
    kb = sub.add_parser("kb", help="import, search and export the knowledge base")
    cmds = kb.add_subparsers(dest="kb_command", metavar="{import,search,export}")
    cmds.required = True

    imp = cmds.add_parser("import", help="import .md, .csv, .json or .jsonl entries")
    imp.add_argument("path", type=Path)
    imp.add_argument("--family", help="platform:chat_id or family name (default: global)")
    imp.set_defaults(func=cmd_import)

    search = cmds.add_parser("search", help="search like the bot does")
    search.add_argument("query", nargs="+", help="any text (use -- before text starting with -)")
    search.add_argument("--family")
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)

    export = cmds.add_parser("export", help="write entries to stdout")
    export.add_argument("--family")
    export.add_argument("--format", choices=FORMATS, default="jsonl")
    export.set_defaults(func=cmd_export)


def _run(work: Callable[[KnowledgeBase, FamilyStore], Awaitable[int]]) -> int:
    """Open the database, run one command, turn errors into exit codes."""

    async def main() -> int:
        settings = load_settings()
        db = await Database.open(settings.db_path)
        try:
            return await work(KnowledgeBase(db), FamilyStore(db))
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except (HearthError, ConfigError) as exc:
        message = exc.user_message("en") if isinstance(exc, HearthError) else str(exc)
        print(f"hearth kb: {message}", file=sys.stderr)
        return 2
    except Exception as exc:
        log.exception("hearth kb failed")
        print(f"hearth kb: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def cmd_import(args: argparse.Namespace) -> int:
    """Import a file; exit 2 if any record was invalid (the valid ones are kept)."""
    path: Path = args.path
    if not path.is_file():
        print(f"hearth kb import: no such file: {path}", file=sys.stderr)
        return 2

    async def work(kb: KnowledgeBase, families: FamilyStore) -> int:
        family_id = (await families.resolve_or_create(args.family)).id if args.family else None
        data = await asyncio.to_thread(path.read_bytes)
        report = await kb.import_file(path.name, data, family_id, Author("hearth kb import", "cli"))
        print(
            f"imported {len(report.imported)} entries"
            + (f", skipped {report.skipped} duplicates" if report.skipped else "")
            + (f", {len(report.errors)} invalid" if report.errors else "")
        )
        for where, why in report.errors:
            print(f"{path.name}: {where}: {why}", file=sys.stderr)
        return 2 if report.errors else 0

    return _run(work)


def cmd_search(args: argparse.Namespace) -> int:
    """Print the best entries for a query; `--json` prints one JSON list."""
    query = " ".join(args.query)
    if not 1 <= args.limit <= 50:
        print("hearth kb search: --limit must be between 1 and 50", file=sys.stderr)
        return 2

    async def work(kb: KnowledgeBase, families: FamilyStore) -> int:
        family_id = (await families.resolve(args.family)).id if args.family else None
        hits = await kb.search(query, family_id, limit=args.limit)
        if args.json:
            doc = [
                {"id": h.entry.id, "title": h.entry.title, "score": h.score, "snippet": h.snippet}
                for h in hits
            ]
            print(json.dumps(doc, ensure_ascii=False))
        elif not hits:
            print("no matches")
        else:
            for h in hits:
                print(f"#{h.entry.id}\t{h.score:.3f}\t{h.entry.title}\n\t{h.snippet}")
        return 0

    return _run(work)


def cmd_export(args: argparse.Namespace) -> int:
    """Write a scope's approved entries to stdout (global without --family)."""

    async def work(kb: KnowledgeBase, families: FamilyStore) -> int:
        family_id = (await families.resolve(args.family)).id if args.family else None
        sys.stdout.write(await kb.export(family_id, args.format))
        sys.stdout.flush()
        return 0

    return _run(work)
