"""`hearth run` as a real process in a test's folder, for tests that kill and restart it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def start_hearth_run(folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`python -m bot run` in `folder` (no developer `.env` is read there), output dropped."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
