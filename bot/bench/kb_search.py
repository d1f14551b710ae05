"""Knowledge search alone, through the app's own KnowledgeBase on the synthetic database.

Run as `python -m bot.bench.kb_search JOB` (a child of `hearth bench`, result as JSON on
stdout), so the search has a process to itself, as in `hearth run`. Each query is a
family's question, searched in that family's scope (its own entries and the global ones).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.bench import procs
from bot.bench.phrases import question
from bot.bench.stats import summarize
from bot.core.config import load_settings

LIMIT = 5  # hits per query, as many as an answer's context takes


async def measure(db: str, families: int, samples: int, warmup: int) -> dict[str, Any]:
    """`warmup` + `samples` searches; the times of the last `samples`."""
    from bot.app import build, settle

    hearth = await build(
        load_settings({"HEARTH_DB": db, "HEARTH_LOG_LEVEL": "WARNING"}, dotenv=None)
    )
    settle()  # as `hearth run` does once it is built
    try:
        kb = hearth.services.kb
        rng = random.Random(2)
        times: list[float] = []
        hits = 0
        for n in range(warmup + samples):
            family_id = rng.randrange(families) + 1
            query = question(rng)
            began = time.perf_counter_ns()
            found = await kb.search(query, family_id, limit=LIMIT)
            spent = time.perf_counter_ns() - began
            if n >= warmup:
                times.append(spent / 1e6)
                hits += bool(found)
        return {"search_ms": summarize(times), "queries_with_hits": hits / samples}
    finally:
        await hearth.aclose()


def run(db: Path, workdir: Path, families: int, samples: int, warmup: int) -> dict[str, Any]:
    """Measure in a child process; its log goes to kb_search.log in the work directory."""
    job = {"db": str(db), "families": families, "samples": samples, "warmup": warmup}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.bench.kb_search", json.dumps(job)],
        cwd=workdir,
        env=procs.clean_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    (workdir / "kb_search.log").write_text(proc.stderr)
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"knowledge search measurement failed: {tail}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main() -> int:
    """Read one job (JSON in argv[1]), print one result document."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    job = json.loads(sys.argv[1])
    result = asyncio.run(measure(job["db"], job["families"], job["samples"], job["warmup"]))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
