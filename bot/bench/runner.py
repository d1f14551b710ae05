"""`hearth bench`: build the synthetic world, run every measurement, collect one result."""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.bench import kb_fill, loopback, synthetic

log = logging.getLogger(__name__)

OWN_ENV_PREFIXES = ("HEARTH_", "LLM_", "TELEGRAM_", "ZALO_")
MODEL_SECONDS = 2.0  # concurrent_2s: how long the loopback model takes per answer
SLOW_REQUESTS = 10_000  # scripted slow answers: answers and summaries of 1,000 chats fit


@dataclass(frozen=True, slots=True)
class Plan:
    """The scale of one bench run (`--quick` or the full defaults, overridable by flags)."""

    families: int
    messages: int
    overhead_entries: int
    entries: int
    samples: int
    warmup: int
    concurrent_chats: int
    telegram_chats: int
    telegram_messages: int
    startup_runs: int
    profile: str | None = None
    # concurrent_2s also at a quarter of the chats and as model calls alone (~10 s more)
    breakdown: bool = False

    @classmethod
    def quick(cls) -> Plan:
        """Small enough for CI (well under 30 s)."""
        return cls(50, 20_000, 500, 2_000, 150, 30, 50, 25, 100, 2)

    @classmethod
    def full(cls) -> Plan:
        """The scale the targets are stated at."""
        return cls(
            1_000, 1_000_000, 10_000, 100_000, 2_000, 200, 1_000, 200, 2_000, 5, breakdown=True
        )


class Results:
    """Fields with values, or null with a reason; details kept apart from the headline."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.reasons: dict[str, str] = {}
        self.details: dict[str, Any] = {}
        self.rss: dict[str, float] = {}

    def peak(self, process: str, rss_mb: float | None) -> None:
        """Remember one Hearth process's peak resident memory."""
        if rss_mb is not None:
            self.rss[process] = round(rss_mb, 1)

    def null(self, names: tuple[str, ...], reason: str) -> None:
        """Mark fields as not measured, with why."""
        for name in names:
            self.fields[name] = None
            self.reasons[name] = reason


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any Hearth settings, plus the bench's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_ENV_PREFIXES)}
    env.update(extra)
    return env


def run_worker(job: dict[str, Any], workdir: Path, timeout: float = 900) -> dict[str, Any]:
    """Run one measurement in a child process and return its JSON result.

    The child's log goes to `worker-<kind>.log` (or the job's `log` name) in the work
    directory (kept with --keep).
    """
    proc = subprocess.run(
        [sys.executable, "-m", "bot.bench.worker", json.dumps(job)],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    (workdir / f"worker-{job.get('log', job['kind'])}.log").write_text(proc.stderr)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-5:]
        raise RuntimeError(f"bench worker {job['kind']} failed: {' | '.join(tail)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_startup(db: Path, workdir: Path, llm_url: str | None, runs: int) -> dict[str, Any]:
    """Process start → first reply on the console (`hearth chat` answering /help)."""
    env = clean_env(HEARTH_DB=str(db), HEARTH_LOG_LEVEL="WARNING")
    if llm_url:
        env.update(LLM_BASE_URL=llm_url, LLM_MODEL="bench-model")
    times = []
    for _ in range(runs + 1):  # the first run also loads the starter pack: not counted
        began = time.perf_counter_ns()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--family", "bench-startup"],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("/help\n")
        proc.stdin.flush()
        first = proc.stdout.readline()
        elapsed = (time.perf_counter_ns() - began) / 1e9
        _, err = proc.communicate("", timeout=30)
        if not first or proc.returncode != 0:
            raise RuntimeError(f"hearth chat did not answer (exit {proc.returncode}): {err[-300:]}")
        times.append(elapsed)
    return {"runs": times[1:], "median_s": statistics.median(times[1:])}


@contextmanager
def model_servers(results: Results) -> Iterator[tuple[Any, Any]]:
    """A zero-latency and a 2 s loopback model server (or None, None with reasons)."""
    reason = loopback.model_client_reason()
    mod = None
    if reason is None:
        mod, reason = loopback.load("openai_server")
    if mod is None:
        results.details["model_reason"] = reason
        yield None, None
        return
    fast = mod.OpenAIServer(latency_s=0.0).start()
    # The 2 s are the model thinking: chat completions wait, the query embeddings of
    # knowledge search do not (scripted per request; more than the run can use).
    slow = mod.OpenAIServer(latency_s=0.0).start()
    slow.script(*(mod.delay(MODEL_SECONDS) for _ in range(SLOW_REQUESTS)))
    try:
        yield fast, slow
    finally:
        fast.stop()
        slow.stop()


def run_bench(plan: Plan, keep: Path | None = None) -> dict[str, Any]:
    """Every measurement at `plan`'s scale; the result document of `hearth bench --json`."""
    res = Results()
    began = time.perf_counter()
    res.details["load_average_before"] = os.getloadavg()
    res.details["cpus"] = os.cpu_count()
    with ExitStack() as stack:
        workdir = keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hearth-")))
        db = workdir / "bench.db"
        scale = synthetic.Scale(plan.families, plan.messages, plan.entries)
        built = synthetic.build_core(db, scale)
        kb_reason = kb_fill.kb_missing_reason()
        if kb_reason is None:
            records = synthetic.entry_records(plan.overhead_entries, plan.families)
            built.entries, built.entries_seconds = kb_fill.fill_entries(db, records)
        res.details["build"] = asdict(built)
        fast, slow = stack.enter_context(model_servers(res))
        llm_url = fast.base_url if fast is not None else None
        phases = res.details["phase_seconds"] = {"build": round(time.perf_counter() - began, 2)}
        for name, phase in (
            ("overhead", lambda: _overhead(res, plan, db, workdir, llm_url, built.entries)),
            ("startup", lambda: _startup(res, plan, db, workdir, llm_url)),
            ("concurrent_2s", lambda: _concurrent(res, plan, db, workdir, slow)),
            ("telegram", lambda: _telegram(res, plan, db, workdir, fast)),
            ("kb_search", lambda: _kb_search(res, plan, db, workdir, kb_reason, built.entries)),
        ):
            started = time.perf_counter()
            phase()
            phases[name] = round(time.perf_counter() - started, 2)
        res.details["load_average_after"] = os.getloadavg()
        res.fields["rss_mb"] = max(res.rss.values()) if res.rss else None
        res.details["rss_mb_by_process"] = res.rss
        res.fields["families"] = plan.families
        res.fields["messages"] = built.messages
        res.fields.setdefault("kb_entries", built.entries)
    return {**res.fields, "null_reasons": res.reasons, "details": res.details}


def _overhead(
    res: Results, plan: Plan, db: Path, workdir: Path, llm_url: str | None, entries: int
) -> None:
    job = {
        "kind": "overhead",
        "db": str(db),
        "llm_url": llm_url,
        "families": plan.families,
        "samples": plan.samples,
        "warmup": plan.warmup,
    }
    out = run_worker(job, workdir)
    res.peak("overhead worker", out["rss_mb"])
    stats = out["result"]["overhead"]
    res.fields["overhead_ms_p50"] = round(stats["p50"], 3)
    res.fields["overhead_ms_p99"] = round(stats["p99"], 3)
    res.details["overhead"] = {**out["result"], "kb_entries": entries}
    if not out["result"]["with_model"]:
        res.details["overhead"]["note"] = "no model client: measured on the KB-only answer path"
    if plan.profile:
        job = {**job, "kind": "profile", "profile_out": plan.profile}
        run_worker(job, workdir)


def _startup(res: Results, plan: Plan, db: Path, workdir: Path, llm_url: str | None) -> None:
    out = measure_startup(db, workdir, llm_url, plan.startup_runs)
    res.fields["startup_s"] = round(out["median_s"], 3)
    res.details["startup"] = out


def _concurrent(res: Results, plan: Plan, db: Path, workdir: Path, slow: Any) -> None:
    if slow is None:
        res.null(("concurrent_2s_p99_s",), res.details.get("model_reason", "no loopback model"))
        return
    job = {
        "kind": "concurrent",
        "db": str(db),
        "llm_url": slow.base_url,
        "families": plan.families,
        "chats": plan.concurrent_chats,
    }
    out = run_worker(job, workdir)
    res.peak("concurrent worker", out["rss_mb"])
    result = out["result"]
    res.details["concurrent_2s"] = result
    if not result["order_ok"] or result["unanswered"]:
        res.null(
            ("concurrent_2s_p99_s",),
            f"{result['unanswered']} of {result['chats']} chats got no answer"
            f" (same-chat order kept: {result['order_ok']}); see the worker log",
        )
        return
    res.fields["concurrent_2s_p99_s"] = round(result["latency_s"]["p99"], 3)
    if plan.breakdown:
        _concurrent_breakdown(result, plan, job, workdir, res)


def _concurrent_breakdown(
    result: dict[str, Any], plan: Plan, job: dict[str, Any], workdir: Path, res: Results
) -> None:
    """What the p99 is made of: the same burst at a quarter of the chats (past the 2 s, the
    latency grows with the CPU all the messages need, not with any chat's wait on another)
    and the burst's model calls alone, with none of Hearth's other work around them."""
    quarter = max(1, plan.concurrent_chats // 4)
    fewer = run_worker({**job, "chats": quarter, "log": f"concurrent-{quarter}"}, workdir)
    res.peak(f"concurrent worker ({quarter} chats)", fewer["rss_mb"])
    result["fewer_chats"] = _brief(fewer["result"])
    alone = run_worker({**job, "kind": "model_calls"}, workdir)
    res.peak("model-calls worker", alone["rss_mb"])
    result["model_calls_alone"] = alone["result"]


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    """A concurrent run's latency, order check and CPU, without its failure samples."""
    keys = ("chats", "latency_s", "order_ok", "unanswered", "cpu_s", "cpu_ms_per_message")
    return {k: result[k] for k in keys}


def _telegram(res: Results, plan: Plan, db: Path, workdir: Path, fast: Any) -> None:
    from bot.bench import telegram_throughput

    names = ("msgs_per_s", "echo_msgs_per_s", "ratio_to_echo")
    reason = telegram_throughput.missing_reason() or (
        None if fast is not None else res.details.get("model_reason", "no loopback model")
    )
    if reason is not None:
        res.null(names, reason)
        return
    out = telegram_throughput.measure(
        db, workdir, fast.base_url, plan.telegram_chats, plan.telegram_messages, plan.families
    )
    res.details["telegram"] = out
    res.peak("hearth run (telegram)", out["hearth_rss_mb"])
    res.fields["msgs_per_s"] = round(out["hearth"]["msgs_per_s"], 1)
    res.fields["echo_msgs_per_s"] = round(out["echo"]["msgs_per_s"], 1)
    res.fields["ratio_to_echo"] = round(out["hearth"]["msgs_per_s"] / out["echo"]["msgs_per_s"], 3)


def _kb_search(
    res: Results, plan: Plan, db: Path, workdir: Path, kb_reason: str | None, have: int
) -> None:
    names = ("kb_search_ms_p50", "kb_search_ms_p99")
    if kb_reason is not None:
        res.null(names, kb_reason)
        res.fields["kb_entries"] = None
        res.reasons["kb_entries"] = kb_reason
        return
    if plan.entries > have:
        more = synthetic.entry_records(plan.entries - have, plan.families, start=have)
        added, seconds = kb_fill.fill_entries(db, more)
        res.details["kb_fill"] = {"added": added, "seconds": seconds}
        have += added
    job = {
        "kind": "kb_search",
        "db": str(db),
        "families": plan.families,
        "samples": plan.samples,
        "warmup": plan.warmup,
    }
    out = run_worker(job, workdir)
    res.peak("kb_search worker", out["rss_mb"])
    result = out["result"]
    if result is None:
        res.null(names, "the app was built without a knowledge base")
        return
    res.details["kb_search"] = result
    res.fields["kb_search_ms_p50"] = round(result["search"]["p50"], 3)
    res.fields["kb_search_ms_p99"] = round(result["search"]["p99"], 3)
    res.fields["kb_entries"] = have
