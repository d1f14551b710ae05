"""The concurrent_2s measurements themselves: the burst through the pipeline and its floor
(the same burst as model calls alone), against the loopback model, on a real database."""

from __future__ import annotations

from pathlib import Path

from bot.bench.measure import measure_concurrent, measure_model_calls
from bot.bench.synthetic import Scale, build_core
from bot.bench.worker import settings_for
from tests.servers.openai_server import OpenAIServer, delay


async def test_model_calls_alone_wait_for_the_model_in_parallel(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    openai_server.script(*(delay(0.3) for _ in range(20)))
    job = {"db": str(tmp_path / "b.db"), "llm_url": openai_server.base_url}
    out = await measure_model_calls(settings_for(job), 20)
    assert out["calls"] == 20 and out["latency_s"]["n"] == 20
    # twenty 0.3 s answers at once: together, not one after another (6 s)
    assert out["latency_s"]["p50"] >= 0.3 and out["latency_s"]["max"] < 3.0
    assert out["cpu_ms_per_call"] > 0
    assert len(openai_server.requests()) == 20


async def test_burst_reports_its_cpu_and_keeps_same_chat_order(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    db = tmp_path / "b.db"
    build_core(db, Scale(families=8, messages=400, entries=0))
    openai_server.script(*(delay(0.2) for _ in range(60)))
    out = await measure_concurrent(
        settings_for({"db": str(db), "llm_url": openai_server.base_url}), 8, 10
    )
    assert out["unanswered"] == 0 and out["order_ok"], out["order_failures"]
    assert out["messages"] == 12  # two chats ask twice in a row
    assert out["latency_s"]["n"] == 8 and out["latency_s"]["p50"] >= 0.2
    assert out["cpu_s"] > 0
    assert (
        abs(out["cpu_ms_per_message"] - out["cpu_s"] * 1000 / 12) < 0.1
    )  # cpu_s is rounded to 1 ms
