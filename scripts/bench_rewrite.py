"""Time knowledge.context.rewrite() on real inputs captured from the overhead bench.

    python scripts/bench_rewrite.py capture DB N OUT.pickle   # N bench messages → inputs
    python scripts/bench_rewrite.py time OUT.pickle [--profile] [--clear]  # median/p99

`capture` runs N messages through the real pipeline (loopback model, as
/work/notes/profile_overhead.py does) on a COPY of the bench database and pickles every
ContextInput the chat handler passes to rewrite(). `time` replays them once, in capture order, in a
fresh process (lru caches warm up as in a running bot); --clear empties them before each call.
"""

from __future__ import annotations

import copy
import cProfile
import gc
import os
import pickle
import pstats
import statistics
import sys
import time

sys.path.insert(0, os.getcwd())


def capture(db: str, n: int, out: str) -> None:
    from bot.bench import loopback, measure, worker
    from knowledge import context

    captured = []
    original = context.rewrite

    def recording(inp):  # type: ignore[no-untyped-def]
        captured.append(copy.deepcopy(inp))
        return original(inp)

    context.rewrite = recording  # type: ignore[assignment]
    mod, _ = loopback.load("openai_server")
    assert mod is not None, "tests/servers/openai_server.py not found"
    srv = mod.OpenAIServer(latency_s=0.0).start()
    try:
        settings = worker.settings_for({"db": db, "llm_url": srv.base_url})
        measure.run(measure.measure_overhead(settings, 1000, n, 0, tag=str(time.time())))
    finally:
        srv.stop()
        context.rewrite = original  # type: ignore[assignment]
    with open(out, "wb") as fh:
        pickle.dump(captured, fh)
    print(f"captured {len(captured)} inputs → {out}")


def _clear_caches() -> None:
    """Forget every lru cache in the knowledge package (worst case: nothing seen before)."""
    import functools

    for name, mod in list(sys.modules.items()):
        if not name.startswith("knowledge"):
            continue
        for value in vars(mod).values():
            if isinstance(value, functools._lru_cache_wrapper):
                value.cache_clear()


def timing(path: str, profile: bool, clear: bool) -> None:
    """One pass in capture order, as the bot sees them (caches warm up on the way)."""
    from knowledge.context import rewrite

    with open(path, "rb") as fh:
        inputs = pickle.load(fh)
    gc.disable()  # a collection inside one call is not the rewriter's cost
    samples: list[float] = []
    pr = cProfile.Profile() if profile else None
    for inp in inputs:
        if clear:
            _clear_caches()
        if pr:
            pr.enable()
        began = time.thread_time_ns()  # CPU time: the machine is shared, wall time is noisy
        rewrite(inp)
        samples.append((time.thread_time_ns() - began) / 1e6)
        if pr:
            pr.disable()
    samples.sort()
    p99 = samples[int(len(samples) * 0.99)]
    print(
        f"{len(inputs)} inputs{' (caches cleared per call)' if clear else ''}, CPU time:"
        f" median {statistics.median(samples):.3f} ms, p99 {p99:.3f} ms,"
        f" max {samples[-1]:.3f} ms, mean {statistics.mean(samples):.3f} ms"
    )
    if pr:
        pstats.Stats(pr).sort_stats(os.environ.get("SORT", "tottime")).print_stats(25)


if __name__ == "__main__":
    if sys.argv[1] == "capture":
        capture(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        timing(sys.argv[2], "--profile" in sys.argv, "--clear" in sys.argv)
