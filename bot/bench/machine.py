"""The machine a bench ran on: numbers only mean something beside it."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what the platform module knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []  # not Linux
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Model"):
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def describe() -> dict[str, Any]:
    """Cores, CPU model, Python, OS, the load average now and the HTTP transport asked for."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "cpu_model": cpu_model(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "os": platform.platform(terse=True),
        "load_average_before": load_average(),
        "http_transport": os.environ.get("HEARTH_HTTP_TRANSPORT") or "default",
    }


def one_line(machine: dict[str, Any]) -> str:
    """`2 cores · Intel(R) Xeon(R) … · Python 3.11.7 (CPython) · load 1.2 0.9 0.8 → …`."""

    def loads(key: str) -> str:
        values = machine.get(key)
        return " ".join(f"{v:.2f}" for v in values) if values else "n/a"

    parts = [
        f"{machine['cores']} cores",
        machine["cpu_model"],
        f"Python {machine['python']}",
        f"load {loads('load_average_before')} before, {loads('load_average_after')} after",
    ]
    if machine.get("http_transport") not in (None, "default"):
        parts.append(f"HEARTH_HTTP_TRANSPORT={machine['http_transport']}")
    return " · ".join(parts)
