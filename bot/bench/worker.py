"""Child process of `hearth bench`: one measurement of one Hearth, result as JSON on stdout.

Hearth runs alone in this process, so the loopback servers (in the parent) never share its
event loop or its GIL, and its peak resident memory (VmHWM) is its own.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from bot.bench import measure
from bot.core.config import load_settings


def peak_rss_mb() -> float | None:
    """This process's peak resident set size, from /proc (Linux) or getrusage."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    except (ImportError, OSError):
        return None


def settings_for(job: dict[str, Any]) -> Any:
    """Hearth's settings for the bench: the synthetic database, the loopback model."""
    env = {
        "HEARTH_DB": job["db"],
        "HEARTH_LOG_LEVEL": "WARNING",
        # one bench member asks far more often than a person could
        "HEARTH_MEMBER_RATE_PER_MIN": "1000000000",
    }
    if job.get("llm_url"):
        env["LLM_BASE_URL"] = job["llm_url"]
        env["LLM_MODEL"] = "bench-model"
        env["LLM_API_KEY"] = "bench"
    return load_settings(env, dotenv=None)


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Dispatch one measurement by name."""
    settings = settings_for(job)
    kind = job["kind"]
    if kind == "overhead":
        result = measure.run(
            measure.measure_overhead(settings, job["families"], job["samples"], job["warmup"])
        )
    elif kind == "kb_search":
        result = measure.run(
            measure.measure_kb_search(settings, job["families"], job["samples"], job["warmup"])
        )
    elif kind == "concurrent":
        result = measure.run(measure.measure_concurrent(settings, job["families"], job["chats"]))
    elif kind == "model_calls":
        result = measure.run(measure.measure_model_calls(settings, job["chats"]))
    elif kind == "profile":
        result = _profiled(settings, job)
    else:
        raise ValueError(f"unknown bench job {kind!r}")
    return {"result": result, "rss_mb": peak_rss_mb()}


def _profiled(settings: Any, job: dict[str, Any]) -> dict[str, Any]:
    """The overhead run under pyinstrument (if installed), its text report written to a file."""
    from pyinstrument import Profiler  # optional: only for `hearth bench --profile`

    profiler = Profiler(async_mode="enabled")
    with profiler:
        result = measure.run(
            measure.measure_overhead(
                settings, job["families"], job["samples"], job["warmup"], tag="profile"
            )
        )
    Path(job["profile_out"]).write_text(profiler.output_text(unicode=True, color=False))
    return result


def main() -> int:
    """Read one job (JSON in argv[1]), print one result document."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    job = json.loads(sys.argv[1])
    sys.stdout.write(json.dumps(run_job(job)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
