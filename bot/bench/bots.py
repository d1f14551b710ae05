"""A bot under test (`hearth run`, or the bare echo bot) polling a fresh loopback Bot API.

The Bot API runs in this process, the bot in its own, so the bot's CPU and memory are its
own. An answer is a message carrying the feedback keyboard reaching the server (Hearth may
first stream a preview and edit it into the answer: that edit is the answer's arrival).
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from bot.bench import procs
from bot.bench.model import tags_in
from bot.bench.synthetic import family_chat_id, member_user_id
from bot.bench.telegram_limits import TelegramLimits

ANSWER_METHODS = ("sendMessage", "editMessageText")
READY_TIMEOUT_S = 60.0
# Every loopback Bot API numbers its messages from here on, in each chat: Hearth ignores a
# message id it already stored (a duplicate delivery), and every run shares one database.
_FIRST_MESSAGE_IDS = itertools.count(int(time.time()) * 1_000_000, 1_000_000)


@dataclass(frozen=True, slots=True)
class Chat:
    """Where a pushed message comes from: one synthetic family's chat and first member."""

    chat_id: int
    user_id: int
    group: bool


def chat_of(index: int) -> Chat:
    """The chat of synthetic family `index`."""
    chat_id, kind = family_chat_id(index)
    return Chat(int(chat_id), int(member_user_id(index, 0)), kind == "group")


class Answers:
    """When each tagged message's answer reached the Bot API (scanning only new calls)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.pos = 0
        self.at: dict[int, float] = {}
        self.methods: Counter[str] = Counter()
        self.untagged: list[str] = []  # replies that are no tagged answer (first few kept)

    @property
    def count(self) -> int:
        """Messages answered so far."""
        return len(self.at)

    def poll(self) -> int:
        """Scan the calls made since the last poll; returns the running answer count."""
        with self.fake.lock:
            new = self.fake.calls[self.pos :]
            self.pos = len(self.fake.calls)
        for call in new:
            self.methods[call.method] += 1
            if call.method not in ANSWER_METHODS:
                continue
            text = str(call.params.get("text", ""))
            found = tags_in(text)
            if found and "fb:up" in str(call.params.get("reply_markup")):
                for n in found:
                    self.at.setdefault(n, call.at)
            elif call.method == "sendMessage" and len(self.untagged) < 5:
                self.untagged.append(text[:200])
        return self.count

    def wait(self, tags: list[int], timeout: float) -> bool:
        """Block until every one of `tags` was answered; False when `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if all(n in self.at for n in tags):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)


@dataclass
class RunningBot:
    """One running bot and the loopback Bot API it polls."""

    tg: ModuleType
    fake: Any
    proc: Any
    ready_s: float
    limits: TelegramLimits | None
    answers: Answers = field(init=False)

    def __post_init__(self) -> None:
        self.answers = Answers(self.fake)

    def push(self, chat: Chat, text: str) -> float:
        """A member's message arrives at Telegram; returns when (time.monotonic)."""
        if chat.group:
            text = f"@{self.tg.BOT_USERNAME} {text}"
        at = time.monotonic()
        self.fake.push_message(chat.chat_id, text, user_id=chat.user_id, first_name="Bench")
        return at

    def cpu_s(self) -> float | None:
        """The bot process's CPU time so far."""
        return procs.cpu_seconds(self.proc.pid)

    def memory_mb(self) -> dict[str, float]:
        """The bot process's peak and current resident memory."""
        return procs.memory_mb(self.proc.pid)


@dataclass(frozen=True, slots=True)
class Rig:
    """What every run of a bot needs: the loopback Bot API's module, the work directory
    (its log, the children's current directory) and Hearth's settings."""

    tg: ModuleType
    workdir: Path
    env: dict[str, str]

    def with_env(self, **extra: str) -> Rig:
        """The same rig, Hearth's settings changed."""
        return Rig(self.tg, self.workdir, {**self.env, **extra})


@contextmanager
def running(rig: Rig, kind: Literal["hearth", "echo"], *, limited: bool) -> Iterator[RunningBot]:
    """Start a loopback Bot API (with Telegram's limits when `limited`) and the bot; yield
    once the bot polls for updates; stop the bot (SIGTERM) afterwards."""
    tg, workdir = rig.tg, rig.workdir
    with tg.running_telegram() as (fake, base, file_base), (workdir / "bots.log").open("ab") as log:
        first_id = next(_FIRST_MESSAGE_IDS)
        fake.next_message_id = defaultdict(lambda: first_id)
        limits = TelegramLimits() if limited else None
        if limits is not None:
            limits.install(fake, tg.ApiError)
        if kind == "hearth":
            argv = [sys.executable, "-m", "bot", "run"]
            env = procs.clean_env(
                **rig.env,
                TELEGRAM_BOT_TOKEN=tg.TOKEN,
                TELEGRAM_API_BASE_URL=base,
                TELEGRAM_API_BASE_FILE_URL=file_base,
            )
        else:
            argv = [sys.executable, "-m", "bot.bench.echo_bot", base, file_base, tg.TOKEN]
            env = procs.clean_env()
        began = time.monotonic()
        proc = procs.spawn(argv, env, workdir, log)
        try:
            ready_at = _first_poll(fake, proc)
            yield RunningBot(tg, fake, proc, ready_at - began, limits)
        finally:
            code = procs.stop(proc)
            if code not in (0, None):
                raise RuntimeError(f"{kind} exited with code {code}; see {workdir / 'bots.log'}")


def _first_poll(fake: Any, proc: Any) -> float:
    """When the bot first asked for updates (it is ready to answer)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        polls = fake.sent("getUpdates")
        if polls:
            return float(polls[0].at)
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the bot did not start polling (exit code {proc.poll()})")
        time.sleep(0.002)


def startup_times(rig: Rig, runs: int) -> dict[str, Any]:
    """`hearth run` from process start to its first poll, `runs` times after one uncounted
    run (the first start on a database also loads the starter pack)."""
    times = []
    for _ in range(runs + 1):
        with running(rig, "hearth", limited=True) as bot:
            times.append(bot.ready_s)
    return {"runs_s": [round(t, 3) for t in times[1:]], "median_s": statistics.median(times[1:])}
