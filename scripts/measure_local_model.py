"""Measure a local model through Hearth's own LLMClient: time to first token and tokens/s.

    .venv/bin/python scripts/measure_local_model.py [--url http://127.0.0.1:8765/v1] [--runs 7]

Streams a short Vietnamese question `runs` times and reports medians; a llama.cpp stream
carries one token per delta, and its final usage (when the server sends it) is preferred.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.config import Endpoint
from bot.llm import LLMClient

PROMPT = [
    {"role": "system", "content": "Bạn là trợ lý của một gia đình Việt Nam. Trả lời ngắn gọn."},
    {"role": "user", "content": "Nấu canh chua cá lóc cần những nguyên liệu gì?"},
]


FAMILY_NOTE = (
    "Gia đình ở miền Nam, bếp gas, nồi đất, không có lò nướng. Bà nội không ăn cay. "
    "Bé Na dị ứng tôm. Cuối tuần cả nhà hay nấu canh chua và cá kho tộ. "
)


async def measure(
    url: str, model: str, runs: int, max_tokens: int, vary: bool = True, context_words: int = 0
) -> dict[str, object]:
    """Stream the prompt `runs` times (after one warm-up) and summarise the timings."""
    client = LLMClient([Endpoint(url, model, local=True)], timeout_s=300, max_total_s=600)
    padding = FAMILY_NOTE * (context_words // len(FAMILY_NOTE.split()))
    system = f"{PROMPT[0]['content']}\n{padding}"

    def prompt(run: int) -> list[dict[str, str]]:
        # A different first line each run, so the server's prompt cache cannot help.
        first = f"Lượt {run}. " if vary else ""
        return [{**PROMPT[0], "content": first + system}, PROMPT[1]]

    try:
        warm = await client.complete(prompt(0), max_tokens=1)  # also tells the prompt size
        ttfts: list[float] = []
        rates: list[float] = []
        totals: list[float] = []
        sample = ""
        for i in range(runs):
            handle = client.stream(prompt(i + 1), max_tokens=max_tokens)
            deltas = [d async for d in handle]
            result = handle.result
            tokens = result.completion_tokens or len(deltas)
            ttft = float(result.ttft_ms or result.latency_ms)
            decode_s = max((result.latency_ms - ttft) / 1000.0, 1e-6)
            ttfts.append(ttft)
            rates.append(max(tokens - 1, 1) / decode_s)
            totals.append(tokens / (result.latency_ms / 1000.0))
            sample = result.text
        return {
            "url": url,
            "model_reported": warm.model,
            "warmup_ms": warm.latency_ms,
            "runs": runs,
            "prompt_cache_defeated": vary,
            "context_words": context_words,
            "prompt_tokens": warm.prompt_tokens,
            "max_tokens": max_tokens,
            "ttft_ms_median": round(statistics.median(ttfts)),
            "ttft_ms_all": [round(t) for t in ttfts],
            "decode_tokens_per_s_median": round(statistics.median(rates), 1),
            "end_to_end_tokens_per_s_median": round(statistics.median(totals), 1),
            "sample_answer": sample[:200],
        }
    finally:
        await client.aclose()


def main() -> int:
    """Parse arguments, measure, print one JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8765/v1")
    parser.add_argument("--model", default="default")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--same-prompt", action="store_true", help="let the prompt cache help")
    parser.add_argument(
        "--context-words", type=int, default=0, help="pad the system prompt with family notes"
    )
    args = parser.parse_args()
    report = asyncio.run(
        measure(
            args.url,
            args.model,
            args.runs,
            args.max_tokens,
            not args.same_prompt,
            args.context_words,
        )
    )
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
