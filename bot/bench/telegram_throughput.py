"""Sustained messages per second through the real Telegram adapter vs a bare PTB echo bot.

Both bots run as their own processes (`hearth run` and `bot.bench.echo_bot`) against one
loopback Bot API in this process, one after the other, on the same chats and texts. An
answer counts when a message carrying the feedback keyboard reaches the server (Hearth
may first stream a preview and then edit it into the final answer; that edit counts).
"""

from __future__ import annotations

import importlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.bench import loopback
from bot.bench.measure import question
from bot.bench.synthetic import family_chat_id, member_user_id

ANSWER_METHODS = ("sendMessage", "editMessageText")
READY_TIMEOUT_S = 60.0


def missing_reason() -> str | None:
    """None when both the adapter and the loopback Bot API are available."""
    try:
        adapter = importlib.import_module("bot.platforms.telegram")
    except ImportError as exc:
        return f"bot/platforms/telegram.py not available ({exc})"
    if not hasattr(adapter, "run_telegram"):
        return "bot.platforms.telegram has no run_telegram"
    _, reason = loopback.load("telegram_api")
    return reason


class AnswerCounter:
    """Counts keyboard-carrying messages the bot sent, scanning only new calls each time."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.pos = 0
        self.count = 0
        self.calls = 0
        self.methods: Counter[str] = Counter()

    def poll(self) -> int:
        """Scan calls made since the last poll; returns the running answer count."""
        with self.fake.lock:
            new = self.fake.calls[self.pos :]
            self.pos = len(self.fake.calls)
        self.calls += len(new)
        self.methods.update(call.method for call in new)
        for call in new:
            if call.method in ANSWER_METHODS and "fb:up" in str(call.params.get("reply_markup")):
                self.count += 1
        return self.count

    def wait(self, target: int, timeout: float) -> None:
        """Block until `target` answers were counted."""
        deadline = time.monotonic() + timeout
        while self.poll() < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.count} of {target} answers after {timeout:.0f}s")
            time.sleep(0.005)


def chat_of(index: int, families: int) -> tuple[int, int, bool]:
    """(chat id, user id, is_group) of chat `index`: a synthetic family, or a new private chat."""
    if index < families:
        chat_id, kind = family_chat_id(index)
        return int(chat_id), int(member_user_id(index, 0)), kind == "group"
    return 900_000_000 + index, 800_000_000 + index, False


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident memory of another process (Linux), None where /proc is absent."""
    status = Path(f"/proc/{pid}/status")
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of another process so far (Linux), None where /proc is absent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _phase(
    tg: Any,
    fake: Any,
    spawn: Callable[[], subprocess.Popen[bytes]],
    chats: int,
    messages: int,
    families: int,
) -> dict[str, Any]:
    """Start a bot, warm it up with one message per chat, then time `messages` more."""
    rng = random.Random(5)
    counter = AnswerCounter(fake)
    counter.poll()
    ready_calls = len(fake.sent("getUpdates"))
    began = time.perf_counter_ns()
    proc = spawn()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while len(fake.sent("getUpdates")) <= ready_calls:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"bot did not start polling (exit code {proc.poll()})")
            time.sleep(0.002)
        startup_s = (time.perf_counter_ns() - began) / 1e9

        def push(n: int) -> None:
            chat_id, user_id, group = chat_of(n % chats, families)
            text = question(rng)
            if group:
                text = f"@{tg.BOT_USERNAME} {text}"
            fake.push_message(chat_id, text, user_id=user_id, first_name="Bench")

        for n in range(chats):
            push(n)
        counter.wait(chats, timeout=120)
        base = counter.count
        calls_before = counter.calls
        methods_before = counter.methods.copy()
        cpu_before = cpu_seconds(proc.pid)
        servers_before = time.process_time()
        began = time.perf_counter_ns()
        for n in range(messages):
            push(n)
        counter.wait(base + messages, timeout=max(120.0, messages / 10))
        elapsed = (time.perf_counter_ns() - began) / 1e9
        cpu_after = cpu_seconds(proc.pid)
        servers_cpu = time.process_time() - servers_before
        counter.poll()
        rss = vm_hwm_mb(proc.pid)
    finally:
        _stop(proc)
    with fake.lock:  # the next bot starts from an empty queue, as a fresh bot would
        fake.updates.clear()
    return {
        "msgs_per_s": messages / elapsed,
        "seconds": elapsed,
        "messages": messages,
        "chats": chats,
        "api_calls_per_message": (counter.calls - calls_before) / messages,
        # The bot process's own CPU per answered message: steadier than msgs_per_s when
        # other work shares the machine.
        "cpu_ms_per_message": (
            None
            if cpu_before is None or cpu_after is None
            else (cpu_after - cpu_before) * 1000 / messages
        ),
        # This process: the loopback Bot API (and, for Hearth, the model server) + counting.
        "servers_cpu_ms_per_message": servers_cpu * 1000 / messages,
        "api_calls_by_method": dict(counter.methods - methods_before),
        "startup_s": startup_s,
        "rss_mb": rss,
    }


def measure(
    db: Path, workdir: Path, llm_url: str, chats: int, messages: int, families: int
) -> dict[str, Any]:
    """Hearth (`hearth run` in a child process) and the echo bot against one loopback server."""
    from bot.bench.runner import clean_env

    tg, reason = loopback.load("telegram_api")
    if tg is None:
        raise RuntimeError(reason)
    log_path = workdir / "telegram-bench.log"
    with tg.running_telegram() as (fake, base, file_base), log_path.open("ab") as log:
        env = clean_env(
            HEARTH_DB=str(db),
            HEARTH_LOG_LEVEL="WARNING",
            HEARTH_MEMBER_RATE_PER_MIN="1000000000",
            TELEGRAM_BOT_TOKEN=tg.TOKEN,
            TELEGRAM_API_BASE_URL=base,
            TELEGRAM_API_BASE_FILE_URL=file_base,
            TELEGRAM_RATE_LIMIT="off",
            LLM_BASE_URL=llm_url,
            LLM_MODEL="bench-model",
        )

        def hearth() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

        def echo() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "bot.bench.echo_bot", base, file_base, tg.TOKEN],
                cwd=workdir,
                env=clean_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

        hearth_run = _phase(tg, fake, hearth, chats, messages, families)
        echo_run = _phase(tg, fake, echo, chats, messages, families)
    return {
        "hearth": hearth_run,
        "echo": echo_run,
        "hearth_rss_mb": hearth_run["rss_mb"],
        "hearth_startup_s": hearth_run["startup_s"],
    }
