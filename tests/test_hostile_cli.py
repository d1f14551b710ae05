"""Hostile input through the real `hearth` process: `python -m bot chat` on stdin."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.test_hostile_pipeline import CASES, GENERIC_APOLOGY

TIMEOUT_S = 60


def hearth_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a `hearth` subprocess: no .env, no developer settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "LLM_"))}
    for key in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN"):
        env.pop(key, None)
    # a strict UTF-8 terminal (en_US.UTF-8, macOS), the harshest decoder for broken bytes
    env.update({"HEARTH_DB": str(tmp_path / "hearth.db"), "PYTHONIOENCODING": "utf-8:strict"})
    env.pop("PYTHONUTF8", None)
    env.update(extra)
    return env


def run_hearth(
    tmp_path: Path, args: list[str], stdin: bytes = b"", **env: str
) -> subprocess.CompletedProcess[bytes]:
    """Run `python -m bot ARGS` in tmp_path (so no `.env` of the developer is read)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        env=hearth_env(tmp_path, **env),
        timeout=TIMEOUT_S,
        check=False,
    )


def _line(text: str) -> bytes:
    """One console line; surrogates go out as the invalid bytes a broken client would send."""
    flat = text.replace("\r", " ").replace("\n", " ").replace("\u2028", " ").replace("\u2029", " ")
    return flat.encode("utf-8", "surrogatepass") + b"\n"


def test_hostile_lines_through_hearth_chat(tmp_path: Path) -> None:
    lines = [_line(c.text) for c in CASES if c.kind == "private"]
    lines += [b"\xff\xfe caf\xe9 latin-1 bytes\n", b"\xc3\x28 broken utf-8\n", b"\xed\xa0\x80\n"]
    stdin = b"/remember Canary: b\xc3\xa0 n\xe1\xbb\x99i kh\xc3\xb4ng \xc4\x83n cay\n" + b"".join(
        lines
    )
    stdin += b"/memory\n"
    proc = run_hearth(tmp_path, ["chat", "--family", "hostile"], stdin)
    out = proc.stdout.decode("utf-8")
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert not any(a in out for a in GENERIC_APOLOGY)
    assert "Canary: bà nội không ăn cay" in out.rsplit("/forget", 1)[0]  # /memory at the end
    assert "chỉ đọc" in out or "read only" in out  # the oversized lines were cut with a notice

    db = sqlite3.connect(tmp_path / "hearth.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        non_blank = [raw for raw in lines if raw.strip()]
        stored = db.execute(
            "SELECT count(*), sum(status = 'answered') FROM messages WHERE role = 'user'"
        ).fetchone()
        # every non-blank line stored and answered (the canary and /memory are two more)
        assert stored[0] == len(non_blank) + 2
        assert stored[1] == stored[0]
    finally:
        db.close()
