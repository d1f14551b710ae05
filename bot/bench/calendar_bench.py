"""The reminder due-check at scale: 100,000 reminders across 10,000 families.

Builds a database through Hearth's own store (events and their next delivery written by
bot/calendar/events.py), then runs the due-check a second at a time on a moved clock, as
the loop does: the read that asks whether anything is due, and when something is, the
claim transaction. Sending is left out (a platform call is not the due-check's cost);
marking each claimed reminder sent, with its next delivery, is timed apart.

    python -m bot.bench.calendar_bench [--families N] [--per-family N] [--ticks N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.calendar.delivery import Claimed, claim_in, mark_sending_in, mark_sent_in
from bot.calendar.events import event_of, schedule_next_in
from bot.calendar.rules import Rule
from bot.store.db import Database

START = dt.datetime(2026, 9, 1, 6, 0, tzinfo=dt.UTC)  # 13:00 in Vietnam: a busy afternoon
RULES = (
    Rule("daily"),
    Rule("weekly", weekday=2),
    Rule("monthly_lunar", days=(1, 15)),
    Rule("monthly", days=(5,)),
    Rule("yearly_lunar", month=3, day=10),
    Rule("yearly", month=10, day=20),
)


class MovedClock:
    """The bench's clock: it stands where it is put."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def now(self) -> dt.datetime:
        """Where the bench has put it."""
        return self.moment


def fill(conn: sqlite3.Connection, families: int, per_family: int, seed: int = 7) -> int:
    """Families, members and events with their first delivery; returns the reminders made."""
    rng = random.Random(seed)
    made = 0
    for f in range(families):
        family_id = conn.execute(
            "INSERT INTO families (platform, chat_id, kind) VALUES ('telegram', ?, 'group')",
            (str(-1000000 - f),),
        ).lastrowid
        if f % 10 == 0:
            conn.execute(
                "INSERT INTO family_profile (family_id, key, value) VALUES (?, 'timezone', ?)",
                (family_id, "America/Los_Angeles"),
            )
        for no in range(1, per_family + 1):
            rule = RULES[rng.randrange(len(RULES))]
            minute = rng.randrange(6 * 60, 22 * 60)
            kind = "gio" if rule.kind == "yearly_lunar" else "reminder"
            cur = conn.execute(
                "INSERT INTO calendar_events (family_id, no, kind, scope, title, rule, at_time,"
                " leads) VALUES (?, ?, ?, 'family', ?, ?, ?, ?)",
                (
                    family_id,
                    no,
                    kind,
                    f"việc {no}",
                    rule.to_json(),
                    f"{minute // 60:02d}:{minute % 60:02d}",
                    "7,1" if kind == "gio" else "0",
                ),
            )
            row = conn.execute(
                "SELECT id, family_id, no, kind, scope, member_id, member_name, title, rule,"
                " at_time, leads, lang, thread_id, active FROM calendar_events WHERE id = ?",
                (cur.lastrowid,),
            ).fetchone()
            if schedule_next_in(conn, event_of(row), START) is not None:
                made += 1
    return made


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of a sample, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def measure(path: Path, ticks: int, step_s: float = 1.0) -> dict[str, Any]:
    """Run `ticks` due-checks a step apart; time each, and the marking of what was claimed."""
    db = await Database.open(path)
    clock = MovedClock(START)
    checks: list[float] = []
    idle: list[float] = []
    marks: list[float] = []
    claimed_total = 0
    try:
        from bot.calendar.delivery import Reminders

        loop = Reminders(db, clock)
        for i in range(ticks):
            clock.moment = START + dt.timedelta(seconds=step_s * (i + 1))
            now = clock.moment
            began = time.perf_counter()
            claimed: list[Claimed] = []
            if await loop.due("telegram"):
                claimed = await db.write(
                    functools.partial(claim_in, platform="telegram", now=now, run=loop.run)
                )
            spent = (time.perf_counter() - began) * 1000
            (checks if claimed else idle).append(spent)
            claimed_total += len(claimed)
            for item in claimed:
                began = time.perf_counter()
                await db.write(functools.partial(mark_sending_in, claimed=item, run=loop.run))
                await db.write(functools.partial(mark_sent_in, claimed=item, ids=["1"], now=now))
                marks.append((time.perf_counter() - began) * 1000)
    finally:
        await db.close()
    every = checks + idle
    return {
        "ticks": ticks,
        "tick_step_s": step_s,
        "claimed": claimed_total,
        "due_check_ms_p50": round(statistics.median(every), 3),
        "due_check_ms_p99": round(percentile(every, 0.99), 3),
        "due_check_ms_max": round(max(every), 3),
        "busy_ticks": len(checks),
        "busy_due_check_ms_p99": round(percentile(checks, 0.99), 3) if checks else None,
        "idle_due_check_ms_p99": round(percentile(idle, 0.99), 3) if idle else None,
        "mark_sent_ms_p99": round(percentile(marks, 0.99), 3) if marks else None,
    }


async def run(
    families: int = 10_000, per_family: int = 10, ticks: int = 3_600, folder: Path | None = None
) -> dict[str, Any]:
    """Build the database (timed), then measure the due-check; one JSON-able document."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = Path(tmp) / "calendar.db"
        db = await Database.open(path)  # migrations
        await db.close()
        began = time.perf_counter()
        conn = sqlite3.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("BEGIN")
            reminders = fill(conn, families, per_family)
            conn.execute("COMMIT")
        finally:
            conn.close()
        built_s = time.perf_counter() - began
        result = await measure(path, ticks)
    return {"families": families, "reminders": reminders, "build_s": round(built_s, 1), **result}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: prints a short summary, or one JSON document with --json."""
    parser = argparse.ArgumentParser(prog="python -m bot.bench.calendar_bench")
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--per-family", type=int, default=10)
    parser.add_argument("--ticks", type=int, default=3_600)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    doc = asyncio.run(run(args.families, args.per_family, args.ticks))
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(
            f"{doc['reminders']} reminders in {doc['families']} families (built in"
            f" {doc['build_s']} s); {doc['ticks']} due-checks a second apart claimed"
            f" {doc['claimed']}: p50 {doc['due_check_ms_p50']} ms, p99 {doc['due_check_ms_p99']}"
            f" ms (busy ticks p99 {doc['busy_due_check_ms_p99']} ms, idle"
            f" {doc['idle_due_check_ms_p99']} ms); marking sent p99 {doc['mark_sent_ms_p99']} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
