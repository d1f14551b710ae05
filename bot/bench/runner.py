"""`hearth bench`: build the synthetic world, run each measurement, collect one result."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.bench import (
    bots,
    calendar_bench,
    kb_fill,
    kb_search,
    load,
    loopback,
    machine,
    report,
    sustained,
    synthetic,
)
from bot.bench.model import MODEL_NAME, BenchModel
from bot.bench.plan import Plan


def say(text: str) -> None:
    """Progress on stderr (stdout carries only the result)."""
    sys.stderr.write(f"hearth bench: {text}\n")
    sys.stderr.flush()


class Results:
    """The headline fields, null ones with a reason, and the details of each phase."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.reasons: dict[str, str] = {}
        self.details: dict[str, Any] = {"phase_seconds": {}}
        self.failed: list[str] = []

    def null(self, names: tuple[str, ...], reason: str) -> None:
        """Mark fields as not measured, with why."""
        for name in names:
            self.fields[name] = None
            self.reasons[name] = reason

    def phase(self, name: str, names: tuple[str, ...], body: Callable[[], None]) -> None:
        """Run one measurement; if it fails, its fields are null with the error as reason."""
        say(f"{name}…")
        began = time.perf_counter()
        try:
            body()
        except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:
            self.null(names, f"{name} failed: {exc}")
            self.failed.append(name)
        self.details["phase_seconds"][name] = round(time.perf_counter() - began, 1)


def hearth_env(db: Path, model: BenchModel) -> dict[str, str]:
    """Hearth's settings for a run: the synthetic database and the loopback model; all else
    (rate limiter, pools, transport) as a family's maintainer would have it."""
    return {
        "HEARTH_DB": str(db),
        "HEARTH_LOG_LEVEL": "WARNING",
        "LLM_BASE_URL": model.base_url,
        "LLM_MODEL": MODEL_NAME,
        "LLM_API_KEY": "bench",
    }


PHASES = ("kb_search", "calendar", "startup", "sustained", "load", "echo")
BUILT = "plan.json"  # beside a kept database: the scale it was built at


def run_bench(
    plan: Plan,
    keep: Path | None = None,
    reuse: Path | None = None,
    only: frozenset[str] = frozenset(PHASES),
) -> dict[str, Any]:
    """Every measurement at `plan`'s scale (or those in `only`); the result document of
    `hearth bench --json`. `keep` builds in a directory and keeps it; `reuse` measures on
    one built that way, so a maintainer can repeat a phase without the 10-minute build."""
    res = Results()
    host = machine.describe()
    with ExitStack() as stack:
        workdir = keep or reuse
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hearth-")))
        db = workdir / "bench.db"
        if reuse is None:
            res.phase("build", ("kb_entries",), lambda: _build(res, plan, db))
            (workdir / BUILT).write_text(json.dumps(asdict(plan)))
        else:
            res.details["build"] = {"reused": str(reuse)}
            res.fields.update(
                kb_entries=plan.entries, families=plan.families, messages=plan.history
            )

        def phase(name: str, names: tuple[str, ...], body: Callable[[], None]) -> None:
            if name in only:
                res.phase(name, names, body)
            else:
                res.null(names, f"{name} not run (--only)")

        phase("kb_search", ("kb_search_ms_p99",), lambda: _kb_search(res, plan, db, workdir))
        phase("calendar", ("calendar",), lambda: _calendar(res, plan, workdir))
        tg, reason = loopback.load("telegram_api")
        servers, model_reason = loopback.load("openai_server")
        names = ("startup_s", "sustained", "rss_mb", "ratio_to_echo")
        if tg is None or servers is None:
            res.null(names, str(reason or model_reason))
        else:
            model = BenchModel(servers)
            stack.callback(model.stop)
            times = model.calibrate()
            res.details["model_ms"] = {
                "stream": round(times.stream_s * 1000, 1),
                "plain": round(times.plain_s * 1000, 1),
            }
            rig = bots.Rig(tg, workdir, hearth_env(db, model))
            phase("startup", names[:1], lambda: _startup(res, plan, rig))
            phase("sustained", names[1:2], lambda: _sustained(res, plan, rig, model))
            phase("load", names[2:3], lambda: _load(res, plan, rig))
            phase("echo", names[3:], lambda: _echo(res, plan, rig))
    host["load_average_after"] = machine.load_average()
    result = {
        "quick": plan.quick,
        "machine": host,
        "scale": asdict(plan),
        "model_ms": res.details.pop("model_ms", None),
        **res.fields,
        "null_reasons": res.reasons,
        "failed_phases": res.failed,
        "details": res.details,
    }
    result["targets"] = report.judge(result)
    verdicts = [v["met"] for v in result["targets"].values() if v["met"] is not None]
    result["targets_met"] = None if plan.quick else bool(verdicts) and all(verdicts)
    return result


def _build(res: Results, plan: Plan, db: Path) -> None:
    built = synthetic.build_core(db, synthetic.Scale(plan.families, plan.history, plan.entries))
    records = synthetic.entry_records(plan.entries, plan.families)
    built.entries, built.entries_seconds = kb_fill.fill_entries(db, records)
    res.details["build"] = asdict(built)
    res.fields["kb_entries"] = built.entries
    res.fields["families"] = plan.families
    res.fields["messages"] = built.messages


def _kb_search(res: Results, plan: Plan, db: Path, workdir: Path) -> None:
    out = kb_search.run(db, workdir, plan.families, plan.search_samples, plan.search_warmup)
    res.details["kb_search"] = out
    res.fields["kb_search_ms_p50"] = round(out["search_ms"]["p50"], 3)
    res.fields["kb_search_ms_p99"] = round(out["search_ms"]["p99"], 3)


def _calendar(res: Results, plan: Plan, workdir: Path) -> None:
    """The reminder due-check at scale, in a database of its own (the chat phases' bot runs
    its reminder loop beside the answers: `hearth run` starts it with the adapter)."""
    scale = (plan.calendar_families, plan.calendar_per_family, plan.calendar_ticks)
    res.fields["calendar"] = asyncio.run(calendar_bench.run(*scale, folder=workdir))


def _startup(res: Results, plan: Plan, rig: bots.Rig) -> None:
    out = bots.startup_times(rig, plan.startup_runs)
    res.details["startup"] = out
    res.fields["startup_s"] = round(out["median_s"], 3)


def _sustained(res: Results, plan: Plan, rig: bots.Rig, model: BenchModel) -> None:
    res.fields["sustained"] = sustained.run(rig, model, plan.rate, plan.chats, plan.seconds)


def _load(res: Results, plan: Plan, rig: bots.Rig) -> None:
    hearth = load.run(rig, "hearth", plan.load_messages, plan.families)
    res.details["load"] = hearth
    res.fields["rss_mb"] = hearth["rss_peak_mb"]
    res.fields["msgs_per_s"] = hearth["msgs_per_s"]


def _echo(res: Results, plan: Plan, rig: bots.Rig) -> None:
    echo = load.run(rig, "echo", plan.load_messages, plan.families)
    res.details["echo"] = echo
    res.fields["echo_msgs_per_s"] = echo["msgs_per_s"]
    hearth = res.details.get("load") or {}
    res.details["echo_compare"] = {
        "hearth_msgs_per_s": hearth.get("msgs_per_s"),
        "echo_msgs_per_s": echo["msgs_per_s"],
        "hearth_cpu_ms_per_message": hearth.get("cpu_ms_per_message"),
        "echo_cpu_ms_per_message": echo["cpu_ms_per_message"],
    }
    pace = hearth.get("msgs_per_s")
    res.fields["ratio_to_echo"] = round(pace / echo["msgs_per_s"], 3) if pace else None


def built_plan(folder: Path) -> Plan:
    """The scale a kept directory's database was built at (`hearth bench --reuse`)."""
    try:
        fields = json.loads((folder / BUILT).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{folder} holds no kept bench database ({BUILT}: {exc})") from exc
    return Plan(**fields)
