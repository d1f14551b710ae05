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


def run(
    rig: bots.Rig, model: BenchModel, rate: float, chats: int, seconds: float
) -> dict[str, Any]:
    """`rate` messages a second over `chats` chats for `seconds` (after one warm-up round)."""
    rng = random.Random(7)
    order = list(range(chats))
    rng.shuffle(order)  # groups and private chats interleaved, the same order every round
    warmup = chats
    total = warmup + round(rate * seconds)
    since = model.mark()
    pushes: list[Push] = []
    with bots.running(rig, "hearth", limited=True) as bot:
        began = time.monotonic()
        cpu_began = window_began = None
        for n in range(total):
            delay = began + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if n == warmup:
                window_began, cpu_began = time.monotonic(), bot.cpu_s()
            n_tag = new_tag()
            at = bot.push(bots.chat_of(order[n % chats]), tagged(question(rng), n_tag))
            pushes.append(Push(n_tag, at, n >= warmup))
        window_ended, cpu_ended = time.monotonic(), bot.cpu_s()
        bot.answers.wait([p.tag for p in pushes], DRAIN_S)
        limits = bot.limits
        assert limits is not None and window_began is not None
        answered_at, methods = dict(bot.answers.at), dict(bot.answers.methods)
        untagged = list(bot.answers.untagged)
        memory, ready_s = bot.memory_mb(), bot.ready_s
    window = window_ended - window_began
    replies, added = added_latencies(pushes, answered_at, model.seconds_by_tag(since))
    answered = sum(1 for p in pushes if p.tag in answered_at)
    measured = total - warmup
    cpu = None if cpu_began is None or cpu_ended is None else cpu_ended - cpu_began
    requests = sum(methods.values())
    return {
        "rate_msg_s": rate,
        "chats": chats,
        "seconds": seconds,
        "messages": measured,
        "pushed_rate_msg_s": round((measured - 1) / window, 2) if measured > 1 else None,
        "lost": total - answered,
        "status_429": limits.total_429,
        "status_429_by_method": dict(limits.status_429),
        "bot_api_requests": requests,
        "added_p50_ms": round(summarize(added)["p50"], 1) if added else None,
        "added_p99_ms": round(summarize(added)["p99"], 1) if added else None,
        "reply_p50_ms": round(summarize(replies)["p50"], 1) if replies else None,
        "reply_p99_ms": round(summarize(replies)["p99"], 1) if replies else None,
        "cpu_pct": None if cpu is None else round(cpu / window * 100, 1),
        "cpu_ms_per_message": None if cpu is None else round(cpu * 1000 / measured, 2),
        "model_requests": model.chat_requests(since),
        "bot_api_by_method": methods,
        "warmup_messages": warmup,
        "other_replies": untagged,
        "rss_mb": round(memory["peak"], 1) if "peak" in memory else None,
        "startup_s": round(ready_s, 3),
    }
