"""Many messages over many families as fast as a bot answers them: Hearth's memory after
them (`rss_mb`), and, as information, its pace beside a bare echo bot's on the same load.

Telegram's limits are off on both sides here (`TELEGRAM_RATE_LIMIT=off`, an unlimited
loopback Bot API): at ~30 answers a second, 10,000 messages would take six minutes. A
fixed number of messages are kept unanswered at any time; family after family, so no
family has two at once and no member asks faster than a person could.
"""

from __future__ import annotations

import random
import time
from typing import Any, Literal

from bot.bench import bots
from bot.bench.model import new_tag, tagged
from bot.bench.phrases import question

IN_FLIGHT = 200
ANSWER_TIMEOUT_S = 120.0  # no answer at all for this long: the run failed


def run(
    rig: bots.Rig, kind: Literal["hearth", "echo"], messages: int, families: int
) -> dict[str, Any]:
    """Push `messages` over `families` with IN_FLIGHT unanswered at most; time and measure."""
    rng = random.Random(11)
    # and one bench member asks every few seconds, more than Hearth lets a person ask
    rig = rig.with_env(TELEGRAM_RATE_LIMIT="off", HEARTH_MEMBER_RATE_PER_MIN="100000")
    with bots.running(rig, kind, limited=False) as bot:
        answers = bot.answers
        cpu_began, began = bot.cpu_s(), time.monotonic()
        tags: list[int] = []
        last_progress, last_count = began, 0
        while answers.poll() < messages:
            while len(tags) < messages and len(tags) - answers.count < IN_FLIGHT:
                tags.append(new_tag())
                bot.push(bots.chat_of(len(tags) % families), tagged(question(rng), tags[-1]))
            now = time.monotonic()
            if answers.count > last_count:
                last_progress, last_count = now, answers.count
            elif now - last_progress > ANSWER_TIMEOUT_S:
                raise RuntimeError(f"{kind}: {answers.count} of {messages} answers, then none")
            time.sleep(0.005)
        elapsed, cpu_ended = time.monotonic() - began, bot.cpu_s()
        memory = bot.memory_mb()
    cpu = None if cpu_began is None or cpu_ended is None else cpu_ended - cpu_began
    return {
        "messages": messages,
        "families": families,
        "msgs_per_s": round(messages / elapsed, 1),
        "cpu_ms_per_message": None if cpu is None else round(cpu * 1000 / messages, 2),
        "rss_peak_mb": round(memory["peak"], 1) if "peak" in memory else None,
        "rss_end_mb": round(memory["now"], 1) if "now" in memory else None,
    }
