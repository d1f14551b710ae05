"""The bots under test run as child processes: their environment, CPU time and memory.

A child gets the caller's environment without any Hearth, model or messenger setting (a
developer's real bot token must never reach the bench), except the HTTP transport choice,
which is what the caller may want to measure; then the bench's own settings.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import IO

OWN_ENV_PREFIXES = ("HEARTH_", "LLM_", "TELEGRAM_", "ZALO_")
PASSED_THROUGH = ("HEARTH_HTTP_TRANSPORT",)


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without Hearth's settings (but the transport), plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k in PASSED_THROUGH or not k.startswith(OWN_ENV_PREFIXES)
    }
    env.update(extra)
    return env


def spawn(
    argv: list[str], env: dict[str, str], cwd: Path, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    """Start a child with its stderr in the bench's log and nothing on our stdout."""
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log
    )


def stop(proc: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM (a clean stop, as a service manager would), then a kill after 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """Peak (VmHWM) and current (VmRSS) resident memory of a process, in MB (Linux)."""
    found: dict[str, float] = {}
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found["peak" if key == "VmHWM" else "now"] = int(value.split()[0]) / 1024
    return found
