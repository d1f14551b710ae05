"""`hearth bench`: the performance benchmark on a synthetic database in a temporary directory."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path


def _positive(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _bench(args: argparse.Namespace) -> int:
    if args.context:
        from bot.bench.context_eval import run_cli

        return run_cli(args.json, args.context)
    from bot.bench import report
    from bot.bench.plan import Plan
    from bot.bench.runner import PHASES, built_plan, run_bench, say
    from bot.cli import CliUsageError, print_json

    reuse = Path(args.reuse) if args.reuse else None
    if reuse is not None and args.keep:
        raise CliUsageError("--keep and --reuse: choose one")
    only = frozenset(args.only.split(",")) if args.only else frozenset(PHASES)
    if unknown := sorted(only - set(PHASES)):
        raise CliUsageError(f"--only: no phase {', '.join(unknown)} (phases: {', '.join(PHASES)})")
    if reuse is not None:
        if args.families or args.messages or args.entries:
            raise CliUsageError("--reuse: the kept database's scale is fixed")
        try:
            plan = built_plan(reuse)
        except ValueError as exc:
            raise CliUsageError(str(exc)) from exc
    else:
        plan = Plan.quick_scale() if args.quick else Plan.full_scale()
    overrides = {
        "families": args.families,
        "history": args.messages,
        "entries": args.entries,
        "chats": args.chats,
        "seconds": args.seconds,
        "load_messages": args.load_messages,
    }
    plan = dataclasses.replace(plan, **{k: v for k, v in overrides.items() if v is not None})
    if plan.chats > plan.families:
        plan = dataclasses.replace(plan, families=plan.chats)
    keep = None
    if args.keep:
        keep = Path(args.keep)
        if keep.exists() and any(keep.iterdir()):
            raise CliUsageError(f"--keep {keep}: directory is not empty")
        keep.mkdir(parents=True, exist_ok=True)
    say(plan.describe())
    result = run_bench(plan, keep, reuse, only)
    if args.json:
        print_json(result)
    else:
        print(report.table(result))
    return 1 if result["failed_phases"] else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bench` noun."""
    bench = sub.add_parser(
        "bench", help="measure what families feel: sustained load, memory, start-up, search"
    )
    bench.add_argument("--json", action="store_true", help="print one JSON document")
    bench.add_argument(
        "--context",
        nargs="?",
        const="heldout",
        metavar="SET",
        help="context quality: the held-out questions (default), dev, or a fixture directory",
    )
    bench.add_argument("--quick", action="store_true", help="small scale for make test, not judged")
    bench.add_argument("--families", type=_positive, help="synthetic families")
    bench.add_argument("--messages", type=_positive, help="synthetic history size")
    bench.add_argument("--entries", type=_positive, help="knowledge entries")
    bench.add_argument("--chats", type=_positive, help="chats in the sustained run")
    bench.add_argument("--seconds", type=_positive, help="length of the sustained run")
    bench.add_argument(
        "--load-messages", type=_positive, help="messages over all families before memory is read"
    )
    bench.add_argument("--keep", help="build in this (empty) directory and keep it")
    bench.add_argument(
        "--reuse", help="measure on a directory an earlier --keep built (its scale, no build)"
    )
    bench.add_argument(
        "--only", help="comma-separated phases: kb_search,calendar,startup,sustained,load,echo"
    )
    bench.set_defaults(func=_bench)
