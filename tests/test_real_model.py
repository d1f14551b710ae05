"""Hearth against a real OpenAI-compatible server (e.g. `make local-model`).

Opt-in: `HEARTH_REAL_MODEL_URL=http://127.0.0.1:8765/v1 pytest -m real_model`.
Optional: `HEARTH_REAL_MODEL_NAME` (default "default"), `HEARTH_REAL_MODEL_CTX` (the
server's context size, default 4096, used to build a prompt that cannot fit).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build
from bot.core.config import Endpoint
from bot.core.errors import ContextTooLong
from bot.llm import CallRecord, LLMClient, RetryPolicy
from tests.conftest import make_settings
from tests.servers.openai_server import dead_base_url
from tests.support import RecordingOutbox, msg

URL = os.environ.get("HEARTH_REAL_MODEL_URL", "")
NAME = os.environ.get("HEARTH_REAL_MODEL_NAME", "default")
CTX = int(os.environ.get("HEARTH_REAL_MODEL_CTX", "4096"))

pytestmark = [
    pytest.mark.real_model,
    pytest.mark.skipif(not URL, reason="set HEARTH_REAL_MODEL_URL to run real-model tests"),
]
QUESTION = [
    {"role": "system", "content": "Bạn là trợ lý của một gia đình Việt Nam. Trả lời ngắn."},
    {"role": "user", "content": "Nấu canh chua cá lóc cần những gì?"},
]
QUICK = RetryPolicy(attempts_per_endpoint=2, backoff_initial_s=0.05, backoff_max_s=0.2)


class Calls(list[CallRecord]):
    """The CallRecords a client reported, in order."""

    async def record(self, call: CallRecord) -> None:
        self.append(call)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
async def client(calls: Calls) -> AsyncIterator[LLMClient]:
    llm = LLMClient([Endpoint(URL, NAME, local=True)], 180.0, 300.0, calls.record, retry=QUICK)
    yield llm
    await llm.aclose()


async def test_plain_completion_records_usage(client: LLMClient, calls: Calls) -> None:
    result = await client.complete(QUESTION, family_id=None, max_tokens=32)
    assert result.text.strip()
    assert result.model  # llama-cpp-python echoes the requested name; llama.cpp names its file
    assert result.prompt_tokens and result.prompt_tokens > 10
    assert result.completion_tokens and 0 < result.completion_tokens <= 32
    [call] = calls
    assert call.ok and call.prompt_tokens == result.prompt_tokens


async def test_streaming_completion(client: LLMClient, calls: Calls) -> None:
    handle = client.stream(QUESTION, max_tokens=32)
    deltas = [d async for d in handle]
    assert len(deltas) > 1
    assert "".join(deltas) == handle.result.text
    assert handle.result.ttft_ms is not None
    assert handle.result.ttft_ms <= handle.result.latency_ms
    assert [c.ok for c in calls] == [True]  # usage in streams is optional (llama-cpp omits it)


async def test_fallback_cloud_then_local(calls: Calls) -> None:
    cloud = Endpoint(dead_base_url(), "cloud-model", api_key="sk-cloud-secret", local=False)
    local = Endpoint(URL, NAME, local=True)
    llm = LLMClient([cloud, local], 180.0, 300.0, calls.record, retry=QUICK)
    try:
        result = await llm.complete(QUESTION, max_tokens=16)
    finally:
        await llm.aclose()
    assert result.endpoint == local.label
    assert [c.endpoint for c in calls] == [cloud.label] * 2 + [local.label]
    assert [c.error for c in calls] == ["connection", "connection", None]


async def test_prompt_too_long_raises_context_too_long(client: LLMClient) -> None:
    huge = [{"role": "user", "content": "canh chua cá lóc " * (CTX * 2)}]
    with pytest.raises(ContextTooLong):
        await client.complete(huge, max_tokens=16)
    handle = client.stream(huge, max_tokens=16)  # llama-cpp answers 200 with an empty stream
    with pytest.raises(ContextTooLong):
        await handle.collect()


async def test_embeddings_absent_or_present(client: LLMClient) -> None:
    vectors = await client.embed(["canh chua", "cá kho"])
    assert vectors is None or (len(vectors) == 2 and len(vectors[0]) > 8)


async def test_question_through_the_pipeline(tmp_path: Path) -> None:
    # A 270M model writes until the 1024-token cap: ~30 s alone, minutes on a busy machine.
    settings = make_settings(
        tmp_path, LLM_BASE_URL=URL, LLM_MODEL=NAME, LLM_TIMEOUT_S="600", LLM_MAX_TOTAL_S="600"
    )
    hearth = await build(settings)
    try:
        out = RecordingOutbox()
        await hearth.pipeline.handle(msg("Nấu canh chua cá lóc thế nào?"), out)
        assert out.sent and out.last.text.strip()
        family = await hearth.services.families.ensure("console", "fam1", "private")
        rows = await hearth.services.db.fetchall(
            "SELECT endpoint, ok, prompt_tokens FROM llm_calls"
            " WHERE family_id = ? AND purpose = 'chat'",
            (family.id,),
        )
    finally:
        await hearth.aclose()
    assert rows and rows[-1]["ok"] == 1 and rows[-1]["prompt_tokens"]
    assert "127.0.0.1" in rows[-1]["endpoint"] or "localhost" in rows[-1]["endpoint"]
