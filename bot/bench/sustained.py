"""The sustained run: messages at a steady rate across many chats, against Telegram's limits.

`hearth run` with its normal settings (python-telegram-bot's rate limiter on) polls a
loopback Bot API that enforces Telegram's flood limits (bench/telegram_limits.py); the
loopback model streams a fixed answer in about 300 ms. Messages arrive evenly spaced, chat
after chat in a fixed order; the first round over the chats warms up and is not measured.
A message's added latency is its reply time (pushed → its answer at the Bot API) minus the
model's own time for the requests it made.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from bot.bench import bots
from bot.bench.model import BenchModel, new_tag, tagged
from bot.bench.phrases import question
from bot.bench.stats import summarize

DRAIN_S = 30.0  # after the last message, how long answers may still take before they count as lost


@dataclass(frozen=True, slots=True)
class Push:
    """One message of the run: its tag, when it arrived, whether it is measured."""

    tag: int
    at: float
    measured: bool


def added_latencies(
    pushes: list[Push], answered_at: dict[int, float], model_s: dict[int, float]
) -> tuple[list[float], list[float]]:
    """Reply and added milliseconds of each measured message that was answered: reply =
    its answer's arrival − its own; added = reply − the model's time for its requests."""
    replies, added = [], []
    for push in pushes:
        if push.measured and push.tag in answered_at:
            reply_ms = (answered_at[push.tag] - push.at) * 1000
            replies.append(reply_ms)
            added.append(reply_ms - model_s.get(push.tag, 0.0) * 1000)
    return replies, added


@dataclass(slots=True)
class Window:
    """The measured part of the run: its length and the CPU spent in it."""

    seconds: float = 0.0
    bot_cpu_s: float | None = None  # the bot's process
    servers_cpu_s: float = 0.0  # this process: the loopback Bot API and model, the pushing


def _push_steadily(
    bot: bots.RunningBot, order: list[int], total: int, warmup: int, rate: float
) -> tuple[list[Push], Window]:
    """Push `total` messages `1 / rate` apart, chat after chat in `order`; the window
    starts with message `warmup` and ends with the last."""
    rng = random.Random(7)
    pushes: list[Push] = []
    window = Window()
    began = time.monotonic()
    marks: tuple[float, float | None, float] = (began, None, 0.0)
    for n in range(total):
        delay = began + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if n == warmup:
            marks = (time.monotonic(), bot.cpu_s(), time.process_time())
        tag = new_tag()
        at = bot.push(bots.chat_of(order[n % len(order)]), tagged(question(rng), tag))
        pushes.append(Push(tag, at, n >= warmup))
    cpu_ended = bot.cpu_s()
    window.seconds = time.monotonic() - marks[0]
    window.servers_cpu_s = time.process_time() - marks[2]
    if marks[1] is not None and cpu_ended is not None:
        window.bot_cpu_s = cpu_ended - marks[1]
    return pushes, window


def _ms(values: list[float], key: str) -> float | None:
    return round(summarize(values)[key], 1) if values else None


def run(
    rig: bots.Rig, model: BenchModel, rate: float, chats: int, seconds: float
) -> dict[str, Any]:
    """`rate` messages a second over `chats` chats for `seconds` (after one warm-up round)."""
    order = list(range(chats))
    random.Random(7).shuffle(order)  # groups and private chats mixed, the same every round
    measured = round(rate * seconds)
    since = model.mark()
    with bots.running(rig, "hearth", limited=True) as bot:
        pushes, window = _push_steadily(bot, order, chats + measured, chats, rate)
        bot.answers.wait([p.tag for p in pushes], DRAIN_S)
        answered_at, methods = dict(bot.answers.at), dict(bot.answers.methods)
        limits, others = bot.limits, list(bot.answers.untagged)
        memory, ready_s = bot.memory_mb(), bot.ready_s
    assert limits is not None
    replies, added = added_latencies(pushes, answered_at, model.seconds_by_tag(since))
    cpu = window.bot_cpu_s
    return {
        "rate_msg_s": rate,
        "chats": chats,
        "seconds": seconds,
        "messages": measured,
        "warmup_messages": chats,
        "pushed_rate_msg_s": round((measured - 1) / window.seconds, 2) if measured > 1 else None,
        "lost": sum(1 for p in pushes if p.tag not in answered_at),
        "status_429": limits.total_429,
        "status_429_by_method": dict(limits.status_429),
        "bot_api_requests": sum(methods.values()),
        "added_p50_ms": _ms(added, "p50"),
        "added_p99_ms": _ms(added, "p99"),
        "reply_p50_ms": _ms(replies, "p50"),
        "reply_p99_ms": _ms(replies, "p99"),
        "cpu_pct": None if cpu is None else round(cpu / window.seconds * 100, 1),
        "cpu_ms_per_message": None if cpu is None else round(cpu * 1000 / measured, 2),
        "servers_cpu_pct": round(window.servers_cpu_s / window.seconds * 100, 1),
        "model_requests": model.chat_requests(since),
        "bot_api_by_method": methods,
        "other_replies": others,
        "rss_mb": round(memory["peak"], 1) if "peak" in memory else None,
        "startup_s": round(ready_s, 3),
    }
