"""What Hearth's prompt costs a family's own machine: prefill against the bare question.

Opt-in (a real OpenAI-compatible server, e.g. `scripts/local_model.sh start`). For each
family, the prompts Hearth built for its questions are sent one after another, as the
family's consecutive questions reach its server (so a server's prompt cache may reuse what
they share), then the bare questions the same way; each is streamed through Hearth's own
model client with one token to generate, and its time to the first token is the prefill.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app import build
from bot.core.config import load_settings
from bot.core.errors import LLMUnavailable

if TYPE_CHECKING:
    from bot.bench.context_fixture import Fixture
    from bot.bench.context_score import Outcome

WARM_UP = [{"role": "user", "content": "Xin chào"}]


async def first_token_ms(llm: Any, messages: Sequence[dict[str, Any]]) -> float:
    """Time to the first token of a one-token answer: the server's prefill, plus a hop."""
    handle = llm.stream(list(messages), max_tokens=1)
    async for _ in handle:
        pass
    result = handle.result
    return float(result.ttft_ms if result.ttft_ms is not None else result.latency_ms)


async def measure_prefill(
    fixture: Fixture,
    outcomes: Sequence[Outcome],
    url: str,
    model: str,
    per_family: int,
    db_path: Path,
) -> dict[str, Any]:
    """Per family: the median of (Hearth's prompt ÷ the bare question) over its first
    `per_family` questions that got a prompt; the worst family's median is the headline."""
    env = {
        "HEARTH_DB": str(db_path),
        "LLM_BASE_URL": url,
        "LLM_MODEL": model,
        "LLM_CAPABILITIES": "chat",
        "LLM_TIMEOUT_S": "600",
        "LLM_MAX_TOTAL_S": "900",
    }
    hearth = await build(load_settings(env, dotenv=None))
    llm = hearth.services.llm
    families: list[dict[str, Any]] = []
    ratios: list[float] = []
    try:
        try:
            await first_token_ms(llm, WARM_UP)
        except LLMUnavailable as exc:
            return {"worst_family_ratio": None, "reason": f"the model did not answer: {exc}"}
        for spec in fixture.families:
            series = [o for o in outcomes if o.question.family == spec.slug and o.prompt]
            series = series[:per_family]
            if not series:
                continue
            hearth_ms = [await first_token_ms(llm, o.prompt or ()) for o in series]
            bare_ms = [
                await first_token_ms(llm, [{"role": "user", "content": o.question.text}])
                for o in series
            ]
            mine = [h / max(b, 1.0) for h, b in zip(hearth_ms, bare_ms, strict=True)]
            ratios += mine
            families.append(
                {
                    "family": spec.slug,
                    "questions": len(series),
                    "prompt_tokens_median": statistics.median(o.tokens or 0 for o in series),
                    "hearth_ms_median": round(statistics.median(hearth_ms), 1),
                    "bare_ms_median": round(statistics.median(bare_ms), 1),
                    "ratio_median": round(statistics.median(mine), 2),
                }
            )
    finally:
        await hearth.aclose()
    return {
        "model": model,
        "families": families,
        "ratio_median": round(statistics.median(ratios), 2) if ratios else None,
        "worst_family_ratio": max((f["ratio_median"] for f in families), default=None),
    }
