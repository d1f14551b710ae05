"""Several HTTP pools per endpoint: made only under load, each call on the least busy one."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

from bot.core.config import Endpoint
from bot.core.llm import LLMClient
from bot.core.llm_pool import ClientShards, sdk_client, tls_context
from tests.servers.openai_server import CHAT, OpenAIServer, delay, running_openai_server


def shards_for(server: OpenAIServer, per_client: int) -> ClientShards:
    return ClientShards(
        lambda: sdk_client(server.base_url, "k", 5.0), per_client=per_client, max_clients=3
    )


async def test_a_new_pool_only_when_every_pool_is_full(openai_server: OpenAIServer) -> None:
    shards = shards_for(openai_server, per_client=2)
    with ExitStack() as stack:
        first = [stack.enter_context(shards.borrow()) for _ in range(2)]
        assert len(shards.clients) == 1 and first[0] is first[1]
        third = stack.enter_context(shards.borrow())
        assert len(shards.clients) == 2 and third is not first[0]
        more = [stack.enter_context(shards.borrow()) for _ in range(5)]
        assert len(shards.clients) == 3  # the cap: the least busy pool takes more
        assert shards.in_flight == 8 and len(set(map(id, more))) == 3
    assert shards.in_flight == 0
    with shards.borrow() as again:
        assert again is shards.clients[0]  # quiet again: no new pool
    assert len(shards.clients) == 3
    await shards.aclose()


async def test_pools_share_one_tls_context() -> None:
    assert tls_context() is tls_context()


async def test_many_slow_calls_at_once_spread_over_pools() -> None:
    with running_openai_server() as server:
        server.script(*(delay(0.3) for _ in range(150)))
        client = LLMClient([Endpoint(base_url=server.base_url, model="m")], timeout_s=10)
        try:
            questions = [f"câu {i}" for i in range(150)]
            answers = await asyncio.gather(
                *(client.complete([{"role": "user", "content": q}]) for q in questions)
            )
            shards = client._clients[client.endpoints[0]]
            assert 2 <= len(shards.clients) <= 3  # 64 calls per pool
            assert shards.in_flight == 0
        finally:
            await client.aclose()
    assert [a.text for a in answers] == [f"Fake answer about: {q}" for q in questions]
    assert len(server.requests(CHAT)) == 150
