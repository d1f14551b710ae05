"""The `hearth` command: one subcommand group per noun, exit codes per the contract."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import signal
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from bot.core.config import Settings, load_settings
from bot.core.errors import ConfigError, HearthError
from bot.core.logs import scrub, setup_logging
from bot.db_check import DatabaseDamaged, require_intact, require_sqlite
from bot.store.migrate import MigrationError

log = logging.getLogger("hearth")

# Modules that add their own nouns: each exposes register(subparsers).
COMMAND_MODULES: tuple[str, ...] = (
    "bot.cli_db",
    "bot.cli_logs",
    "bot.cli_kb",
    "bot.cli_report",
    "bot.cli_bench",
    "bot.cli_lich",
)


class CliUsageError(Exception):
    """Bad input on the command line: exit 2 with a one-line reason."""


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")


def settings_from_env() -> Settings:
    """Load and validate settings, and set up logging with secrets scrubbed."""
    settings = load_settings()
    setup_logging(settings.log_level, settings.secrets)
    require_sqlite(settings.db_path)
    return settings


def console_family(ref: str | None) -> str:
    """`console:NAME` or `NAME` → the console chat id."""
    if not ref:
        return "home"
    return ref.split(":", 1)[1] if ref.startswith("console:") else ref


async def _chat(args: argparse.Namespace) -> int:
    from bot.app import build
    from bot.platforms.console import run_console

    settings = settings_from_env()
    hearth = await build(settings, load_pack=True)
    try:
        await run_console(hearth.pipeline, console_family(args.family), args.user or "me")
    finally:
        await hearth.aclose()
    return 0


async def _run(args: argparse.Namespace) -> int:
    from bot.app import build, settle

    settings = settings_from_env()
    await asyncio.to_thread(require_intact, settings.db_path)  # refuse a damaged database
    if not settings.telegram_token and not settings.zalo_token:
        from bot.platforms.console import run_console

        hearth = await build(settings, load_pack=True)
        settle()
        try:
            await run_console(hearth.pipeline, console_family(args.family), args.user or "me")
        finally:
            await hearth.aclose()
        return 0
    hearth = await build(settings, load_pack=True)
    settle()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = []
    try:
        if settings.telegram_token:
            from bot.platforms.telegram import run_telegram

            tasks.append(asyncio.create_task(run_telegram(hearth, settings, stop), name="telegram"))
        if settings.zalo_token:
            from bot.platforms.zalo import run_zalo

            tasks.append(asyncio.create_task(run_zalo(hearth, settings, stop), name="zalo"))
        log.info("Hearth is running (%s); stop with Ctrl+C", ", ".join(t.get_name() for t in tasks))
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                stop.set()
                raise task.exception()  # type: ignore[misc]
        return 0
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await hearth.aclose()


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(prog="hearth", description="Hearth, the family chat bot.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot (Telegram/Zalo if tokens are set, else console)")
    run.add_argument("--family", help="console family (when no messenger token is set)")
    run.add_argument("--user", help="console user name")
    run.set_defaults(func=_run, is_async=True)
    chat = sub.add_parser("chat", help="chat on the console (one message per line)")
    chat.add_argument("--family", help="console family name (default: home)")
    chat.add_argument("--user", help="your name in the family (default: me)")
    chat.set_defaults(func=_chat, is_async=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


SEARCH_OPTIONS = {"--family": 1, "--limit": 1, "--json": 0, "-h": 0, "--help": 0}


def protect_query(argv: list[str]) -> list[str]:
    """`hearth kb search -x` must search for "-x": move unknown dash words behind `--`."""
    if argv[:2] != ["kb", "search"] or "--" in argv:
        return argv
    options: list[str] = []
    words: list[str] = []
    rest = argv[2:]
    i = 0
    while i < len(rest):
        word = rest[i]
        name = word.split("=", 1)[0]
        if name in SEARCH_OPTIONS:
            take = 0 if "=" in word else SEARCH_OPTIONS[name]
            options.extend(rest[i : i + 1 + take])
            i += 1 + take
        else:
            words.append(word)
            i += 1
    return ["kb", "search", *options, "--", *words] if words else argv


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; maps failures to the contract's exit codes."""
    parser = build_parser()
    try:
        args = parser.parse_args(protect_query(list(sys.argv[1:] if argv is None else argv)))
    except SystemExit as exc:
        return int(exc.code or 0)
    func: Callable[[argparse.Namespace], Any] = args.func
    if not logging.getLogger().handlers:  # until settings are read: scrubbed, warnings only
        setup_logging("WARNING", ())
    try:
        if getattr(args, "is_async", False):
            return int(asyncio.run(func(args)))
        return int(func(args))
    except (ConfigError, CliUsageError) as exc:
        _say(f"hearth: {exc}")
        return 2
    except HearthError as exc:
        _say(f"hearth: {exc.en}")
        return 2
    except (MigrationError, DatabaseDamaged) as exc:
        _say(f"hearth: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    except sqlite3.DatabaseError as exc:  # locked, full, damaged: one line
        log.debug("database failure", exc_info=True)  # where: with HEARTH_LOG_LEVEL=DEBUG
        _say(f"hearth: database error: {exc}")
        return 1
    except BrokenPipeError:  # `hearth report | head`: the reader left; not our failure
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # the edge: log the traceback, print one line
        log.exception("unexpected failure")
        _say(f"hearth: unexpected error: {exc.__class__.__name__}: {exc}")
        return 1


def _say(line: str) -> None:
    """The one line a failure prints, with every secret masked (an error may quote one)."""
    sys.stderr.write(scrub(line) + "\n")


if __name__ == "__main__":
    sys.exit(main())
