"""Hardening D and the SDK path: a misbehaving model server cannot stall a family or fill
memory, and a request is never sent twice because its keep-alive connection died.

The real openai client against loopback servers that trickle, flood, or close the
connection after answering.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import time
from pathlib import Path

import pytest

from bot.app import build
from bot.core.config import Endpoint
from bot.core.errors import LLMUnavailable
from bot.llm import LLMClient, RetryPolicy
from tests.conftest import model_settings
from tests.servers.openai_server import flood, running_openai_server, trickle
from tests.servers.raw_http import RawHTTPServer, Reply
from tests.support import RecordingOutbox, msg

ONE_TRY = RetryPolicy(attempts_per_endpoint=1, backoff_initial_s=0.01, backoff_max_s=0.01)
MESSAGES = [{"role": "user", "content": "Nấu canh chua thế nào?"}]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _completion_reply(text: str, *, close: bool) -> Reply:
    body = json.dumps(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    ).encode()
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return Reply(head.encode() + body, close=close)


async def test_a_post_whose_keep_alive_connection_died_is_not_sent_twice() -> None:
    """The server answers and closes the connection without saying so: the next question
    goes out once, on a new connection (no second, billed model call)."""
    async with RawHTTPServer() as server:
        server.script(_completion_reply("một", close=True), _completion_reply("hai", close=True))
        client = LLMClient([Endpoint(server.url + "/v1", "m")], 5.0, 10.0, retry=ONE_TRY)
        try:
            first = await client.complete(MESSAGES)
            await asyncio.sleep(0.05)  # the close reaches the client's pooled connection
            second = await client.complete(MESSAGES)
        finally:
            await client.aclose()
    assert (first.text, second.text) == ("một", "hai")
    posts = [s for s in server.requests if s.head.startswith(b"POST")]
    assert len(posts) == 2
    assert posts[0].connection != posts[1].connection


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "stream"])
async def test_item_d_a_trickling_server_is_cut_off_at_the_deadline(streamed: bool) -> None:
    """Each byte arrives well inside the read timeout; the call's total deadline ends it.
    A stream keeps what came, marked; a whole answer that never completes is given up."""
    with running_openai_server() as server:
        server.script(trickle(0.1, seconds=20))
        client = LLMClient([Endpoint(server.base_url, "m")], 5.0, 1.5, retry=ONE_TRY)
        started = time.monotonic()
        try:
            if streamed:
                got = await client.stream(MESSAGES).collect()
                assert got.cut == "deadline" and got.text.startswith("lặp")
            else:
                with pytest.raises(LLMUnavailable, match="deadline"):
                    await client.complete(MESSAGES)
        finally:
            await client.aclose()
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 1.0


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "stream"])
async def test_item_d_a_flooding_server_is_capped_and_memory_stays_small(streamed: bool) -> None:
    """An answer that never ends stops at the character cap (stream: kept, marked) or at
    the transport's byte cap (whole answer: given up) — memory does not follow the flood."""
    before = _peak_rss_mb()
    with running_openai_server() as server:
        server.script(flood(seconds=20))
        client = LLMClient(
            [Endpoint(server.base_url, "m")], 5.0, 30.0, retry=ONE_TRY, max_answer_chars=2000
        )
        started = time.monotonic()
        try:
            if streamed:
                got = await client.stream(MESSAGES).collect()
                assert got.cut == "length" and len(got.text) == 2000
            else:
                with pytest.raises(LLMUnavailable, match="too_large"):
                    await client.complete(MESSAGES)
        finally:
            await client.aclose()
        elapsed = time.monotonic() - started
    assert elapsed < 10
    assert _peak_rss_mb() - before < 100


async def test_item_d_max_tokens_is_always_asked() -> None:
    with running_openai_server() as server:
        client = LLMClient([Endpoint(server.base_url, "m")], 5.0, 10.0, retry=ONE_TRY)
        try:
            await client.complete(MESSAGES)
        finally:
            await client.aclose()
        assert server.requests()[0].body["max_tokens"] == 1024


async def test_item_d_the_familys_next_message_is_answered_after_a_stall(tmp_path: Path) -> None:
    """Through the whole app: a trickling model holds the family's first answer only until
    LLM_MAX_TOTAL_S; the partial answer is kept and marked, and the next message is
    answered within the deadline + 5 s."""
    with running_openai_server() as server:
        server.script(trickle(0.1, seconds=60))
        settings = model_settings(
            tmp_path, server, LLM_MAX_TOTAL_S="2", LLM_TIMEOUT_S="5", LLM_MAX_ANSWER_CHARS="4000"
        )
        app = await build(settings)
        try:
            out = RecordingOutbox(wants_preview=True)  # answers stream, as on Telegram
            started = time.monotonic()
            first = asyncio.create_task(
                app.pipeline.handle(msg("Làm cá kho thế nào?", chat="stall", message_id="1"), out)
            )
            await asyncio.sleep(0.2)
            second = asyncio.create_task(
                app.pipeline.handle(msg("Còn canh chua?", chat="stall", message_id="2"), out)
            )
            await asyncio.wait_for(asyncio.gather(first, second), timeout=2 + 5)
            elapsed = time.monotonic() - started
        finally:
            await app.aclose()
    texts = out.texts
    assert any("lặp" in t and re.search(r"bị cắt|cut short", t) for t in texts), texts
    assert any("canh chua" in t.lower() for t in texts), texts
    assert elapsed < 2 + 5
