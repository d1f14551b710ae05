"""`hearth bench`: the performance benchmark on a synthetic database in a temporary directory."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _bench(args: argparse.Namespace) -> int:
    if args.context:
        from bot.bench.context_eval import run_cli

        return run_cli(args.json)
    from bot.bench import report
    from bot.bench.runner import Plan, run_bench
    from bot.cli import CliUsageError, print_json

    plan = Plan.quick() if args.quick else Plan.full()
    overrides = {
        "families": args.families,
        "messages": args.messages,
        "entries": args.entries,
        "overhead_entries": args.overhead_entries,
        "samples": args.samples,
        "concurrent_chats": args.chats,
        "telegram_chats": args.telegram_chats,
        "profile": args.profile,
    }
    plan = dataclasses.replace(plan, **{k: v for k, v in overrides.items() if v is not None})
    if plan.overhead_entries > plan.entries:
        plan = dataclasses.replace(plan, entries=plan.overhead_entries)
    keep = None
    if args.keep:
        keep = Path(args.keep)
        if keep.exists() and any(keep.iterdir()):
            raise CliUsageError(f"--keep {keep}: directory is not empty")
        keep.mkdir(parents=True, exist_ok=True)
    if not args.json:
        sys.stderr.write(f"hearth bench: {plan}\n")
    result = run_bench(plan, keep)
    if args.json:
        print_json(result)
    else:
        print(report.table(result))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` noun."""
    bench = sub.add_parser("bench", help="measure Hearth's own overhead on a synthetic database")
    bench.add_argument("--json", action="store_true", help="print one JSON document")
    bench.add_argument(
        "--context", action="store_true", help="context quality on the held-out questions"
    )
    bench.add_argument("--quick", action="store_true", help="small scale for CI (< 30 s)")
    bench.add_argument("--families", type=_positive)
    bench.add_argument("--messages", type=_positive, help="synthetic history size")
    bench.add_argument("--entries", type=_positive, help="knowledge entries for kb_search")
    bench.add_argument(
        "--overhead-entries", type=_positive, help="knowledge entries while measuring overhead"
    )
    bench.add_argument("--samples", type=_positive, help="measured messages/queries per phase")
    bench.add_argument("--chats", type=_positive, help="chats asking at once (concurrent_2s)")
    bench.add_argument("--telegram-chats", type=_positive, help="chats in the throughput run")
    bench.add_argument("--profile", help="write a pyinstrument profile of the overhead run here")
    bench.add_argument("--keep", help="build in this (empty) directory and keep it")
    bench.set_defaults(func=_bench)
