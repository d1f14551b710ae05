"""The model client against a scripted loopback server, through the real openai SDK."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from bot.core.config import Endpoint
from bot.core.errors import ContextTooLong, LLMUnavailable
from bot.llm import CallRecord, LLMClient, RetryPolicy
from tests.servers.openai_server import (
    CHAT,
    OpenAIServer,
    context_too_long,
    cut_stream,
    dead_base_url,
    delay,
    malformed,
    rate_limited,
    reply,
    running_openai_server,
    status,
)

FAST = RetryPolicy(
    attempts_per_endpoint=3,
    backoff_initial_s=0.01,
    backoff_max_s=0.05,
    retry_after_cap_s=2.0,
    endpoint_budget_s=10.0,
)
SECRET = "sk-test-VERY-SECRET-key-1234567890"
MESSAGES = [
    {"role": "system", "content": "Bạn là trợ lý của gia đình."},
    {"role": "user", "content": "Nấu canh chua thế nào?"},
]

MakeClient = Callable[..., LLMClient]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """Build clients that record their calls; all are closed after the test."""
    made: list[LLMClient] = []

    def make(
        *endpoints: Endpoint, timeout_s: float = 5.0, max_total_s: float = 20.0, **kw: object
    ) -> LLMClient:
        records: list[CallRecord] = []

        async def on_call(record: CallRecord) -> None:
            records.append(record)

        kw.setdefault("retry", FAST)
        client = LLMClient(endpoints, timeout_s, max_total_s, on_call, **kw)  # type: ignore[arg-type]
        client.records = records  # type: ignore[attr-defined]
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def ep(server: OpenAIServer | str, model: str = "m1", **kw: object) -> Endpoint:
    base = server if isinstance(server, str) else server.base_url
    return Endpoint(base_url=base, model=model, **kw)  # type: ignore[arg-type]


def records(client: LLMClient) -> list[CallRecord]:
    return client.records  # type: ignore[attr-defined,no-any-return]


async def test_plain_completion_sends_exact_messages(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    client = make_client(ep(openai_server, api_key=SECRET))
    result = await client.complete(MESSAGES, family_id=7, max_tokens=50)
    assert result.text == "Fake answer about: Nấu canh chua thế nào?"
    assert result.model == "m1"
    assert result.endpoint == ep(openai_server).label
    assert result.prompt_tokens and result.completion_tokens
    [req] = openai_server.requests(CHAT)
    assert req.body["messages"] == MESSAGES
    assert req.body["model"] == "m1" and req.body["max_tokens"] == 50
    assert req.had_auth and "stream" not in req.body
    [rec] = records(client)
    assert rec.ok and rec.error is None and rec.family_id == 7 and rec.purpose == "chat"
    assert rec.prompt_tokens == result.prompt_tokens


async def test_server_model_name_wins(make_client: MakeClient) -> None:
    with running_openai_server(reported_model="/models/gemma.gguf") as server:
        client = make_client(ep(server, model="default"))
        result = await client.complete(MESSAGES)
    assert result.model == "/models/gemma.gguf"
    assert records(client)[0].model == "/models/gemma.gguf"


async def test_stream_yields_deltas_and_full_result(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    openai_server.script(reply("Một hai ba bốn năm sáu bảy"))
    client = make_client(ep(openai_server))
    handle = client.stream(MESSAGES, family_id=3)
    deltas = [d async for d in handle]
    assert len(deltas) == 7
    assert "".join(deltas) == handle.result.text == "Một hai ba bốn năm sáu bảy"
    assert handle.result.ttft_ms is not None
    assert handle.result.completion_tokens == 7
    [req] = openai_server.requests(CHAT)
    assert req.body["stream"] is True
    assert req.body["stream_options"] == {"include_usage": True}
    assert records(client)[0].completion_tokens == 7


async def test_stream_without_usage_is_tolerated(make_client: MakeClient) -> None:
    with running_openai_server(stream_usage=False) as server:
        client = make_client(ep(server))
        handle = client.stream(MESSAGES)
        text = "".join([d async for d in handle])
    assert text == handle.result.text
    assert handle.result.prompt_tokens is None and handle.result.completion_tokens is None


async def test_429_retry_after_is_honoured(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    openai_server.script(rate_limited(0.4))
    client = make_client(ep(openai_server))
    result = await client.complete(MESSAGES)
    first, second = openai_server.requests(CHAT)
    assert second.at - first.at >= 0.38
    assert result.text.startswith("Fake answer")
    assert [r.error for r in records(client)] == ["http_429", None]


async def test_retry_after_ms_and_cap(openai_server: OpenAIServer, make_client: MakeClient) -> None:
    openai_server.script(rate_limited(ms=250), rate_limited(60))
    client = make_client(ep(openai_server), retry=RetryPolicy(3, 0.01, 0.05, 0.3, 10.0))
    started = time.monotonic()
    await client.complete(MESSAGES)
    elapsed = time.monotonic() - started
    a, b, c = openai_server.requests(CHAT)
    assert b.at - a.at >= 0.23
    assert 0.28 <= c.at - b.at < 2.0  # 60 s asked, capped at 0.3 s
    assert elapsed < 3.0


async def test_500_then_success(openai_server: OpenAIServer, make_client: MakeClient) -> None:
    openai_server.script(status(500), status(503))
    client = make_client(ep(openai_server))
    result = await client.complete(MESSAGES)
    assert result.text.startswith("Fake answer")
    assert len(openai_server.requests(CHAT)) == 3
    assert [r.ok for r in records(client)] == [False, False, True]


async def test_401_is_not_retried(openai_server: OpenAIServer, make_client: MakeClient) -> None:
    openai_server.script(status(401, "Invalid API key", err_type="invalid_request_error"))
    client = make_client(ep(openai_server))
    with pytest.raises(LLMUnavailable, match="http_401"):
        await client.complete(MESSAGES)
    assert len(openai_server.requests(CHAT)) == 1


@pytest.mark.parametrize("code", [400, 403, 404])
async def test_client_errors_move_to_next_endpoint(code: int, make_client: MakeClient) -> None:
    with running_openai_server() as first, running_openai_server() as second:
        first.script(status(code, "nope", err_type="invalid_request_error"))
        client = make_client(ep(first, "a"), ep(second, "b"))
        result = await client.complete(MESSAGES)
        assert len(first.requests(CHAT)) == 1 and len(second.requests(CHAT)) == 1
    assert result.endpoint == ep(second, "b").label and result.model == "b"


async def test_fallback_when_first_endpoint_is_down(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    dead = ep(dead_base_url(), "cloud")
    client = make_client(dead, ep(openai_server, "local"))
    result = await client.complete(MESSAGES)
    assert result.model == "local"
    errors = [r.error for r in records(client)]
    assert errors == ["connection"] * FAST.attempts_per_endpoint + [None]
    assert records(client)[0].endpoint == dead.label


async def test_all_endpoints_down(make_client: MakeClient) -> None:
    client = make_client(ep(dead_base_url()), ep(dead_base_url()))
    with pytest.raises(LLMUnavailable, match="connection"):
        await client.complete(MESSAGES)
    assert len(records(client)) == 2 * FAST.attempts_per_endpoint


async def test_timeout_is_retried(openai_server: OpenAIServer, make_client: MakeClient) -> None:
    openai_server.script(delay(3.0))
    client = make_client(ep(openai_server), timeout_s=0.4)
    started = time.monotonic()
    result = await client.complete(MESSAGES)
    assert time.monotonic() - started < 2.8  # the 3 s delay was not waited for
    assert result.text.startswith("Fake answer")
    assert [r.error for r in records(client)] == ["timeout", None]


async def test_total_time_is_bounded(openai_server: OpenAIServer, make_client: MakeClient) -> None:
    openai_server.script(delay(3.0), delay(3.0), delay(3.0))
    client = make_client(
        ep(openai_server),
        timeout_s=0.3,
        retry=RetryPolicy(10, 0.01, 0.02, 1.0, endpoint_budget_s=0.8),
    )
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="timeout"):
        await client.complete(MESSAGES)
    assert time.monotonic() - started < 2.6


async def test_malformed_body_then_success(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    openai_server.script(malformed())
    client = make_client(ep(openai_server))
    result = await client.complete(MESSAGES)
    assert result.text.startswith("Fake answer")
    assert [r.error for r in records(client)] == ["malformed", None]


async def test_cut_stream_still_gives_full_text(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    text = "Canh chua cá lóc: me, cà chua, dứa, đậu bắp, giá, rau ngổ."
    openai_server.reply_fn = lambda _messages: text
    openai_server.script(cut_stream(after_chunks=3))
    client = make_client(ep(openai_server))
    handle = client.stream(MESSAGES)
    deltas = [d async for d in handle]
    assert 0 < len("".join(deltas)) < len(text)
    assert handle.result.text == text
    first, second = openai_server.requests(CHAT)
    assert first.body["stream"] is True and "stream" not in second.body
    assert [r.ok for r in records(client)] == [False, True]


async def test_stream_failing_before_first_delta_falls_back(make_client: MakeClient) -> None:
    with running_openai_server() as first, running_openai_server() as second:
        first.script(*[status(502)] * FAST.attempts_per_endpoint)
        client = make_client(ep(first, "a"), ep(second, "b"))
        handle = client.stream(MESSAGES)
        deltas = [d async for d in handle]
        assert deltas == []
        assert handle.result.text.startswith("Fake answer") and handle.result.model == "b"
        assert len(second.requests(CHAT)) == 1


async def test_stream_result_before_iteration_is_an_error(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    handle = make_client(ep(openai_server)).stream(MESSAGES)
    with pytest.raises(RuntimeError):
        _ = handle.result
    assert (await handle.collect()).text.startswith("Fake answer")


@pytest.mark.parametrize("llama_cpp", [False, True])
async def test_context_too_long(llama_cpp: bool, make_client: MakeClient) -> None:
    with running_openai_server() as first, running_openai_server() as second:
        first.script(context_too_long(llama_cpp))
        client = make_client(ep(first), ep(second))
        with pytest.raises(ContextTooLong):
            await client.complete(MESSAGES)
        assert len(first.requests(CHAT)) == 1 and second.requests(CHAT) == []
    assert records(client)[0].error == "context_too_long"


async def test_context_too_long_in_stream(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    openai_server.script(context_too_long())
    handle = make_client(ep(openai_server)).stream(MESSAGES)
    with pytest.raises(ContextTooLong):
        async for _ in handle:
            pass
    assert len(openai_server.requests(CHAT)) == 1


async def test_embeddings_present(openai_server: OpenAIServer, make_client: MakeClient) -> None:
    client = make_client(ep(openai_server), embedding_model="embed-small")
    texts = ["canh chua cá lóc", "canh chua cá basa", "sửa xe máy"]
    vectors = await client.embed(texts)
    assert vectors is not None and len(vectors) == 3

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2])
    [req] = openai_server.requests("/v1/embeddings")
    assert req.body == {"model": "embed-small", "input": texts, "encoding_format": "base64"} or (
        req.body["model"] == "embed-small" and req.body["input"] == texts
    )
    assert records(client)[0].purpose == "embed"


async def test_embeddings_absent_are_remembered(make_client: MakeClient) -> None:
    with running_openai_server(embeddings=False) as server:
        client = make_client(ep(server))
        assert await client.embed(["một", "hai"]) is None
        assert await client.embed(["ba"]) is None
        assert len(server.requests("/v1/embeddings")) == 1


async def test_embeddings_from_second_endpoint(make_client: MakeClient) -> None:
    with running_openai_server(embeddings=False) as first, running_openai_server() as second:
        client = make_client(ep(first), ep(second))
        assert await client.embed(["một"]) is not None
        assert await client.embed(["hai"]) is not None
        assert len(first.requests("/v1/embeddings")) == 1
        assert len(second.requests("/v1/embeddings")) == 2


async def test_transcription_present(openai_server: OpenAIServer, make_client: MakeClient) -> None:
    client = make_client(ep(openai_server))
    text = await client.transcribe(b"OggS fake voice bytes", "voice.ogg")
    assert text == "xin chào cả nhà"
    [req] = openai_server.requests("/v1/audio/transcriptions")
    assert req.body == {"bytes": req.body["bytes"], "filename": "voice.ogg", "model": "whisper-1"}


async def test_transcription_absent(make_client: MakeClient) -> None:
    with running_openai_server(transcription=None) as server:
        client = make_client(ep(server))
        assert await client.transcribe(b"x", "a.ogg") is None
        assert await client.transcribe(b"x", "a.ogg") is None
        assert len(server.requests("/v1/audio/transcriptions")) == 1


async def test_local_only_uses_local_endpoints(make_client: MakeClient) -> None:
    with running_openai_server() as cloud, running_openai_server() as local:
        client = make_client(ep(cloud, "cloud", local=False), ep(local, "local", local=True))
        assert not client.first_endpoint_is_local and client.has_local
        assert not client.all_endpoints_local
        result = await client.complete(MESSAGES, local_only=True)
        assert result.model == "local" and cloud.requests(CHAT) == []
    only_local = make_client(ep(dead_base_url(), local=True))
    assert only_local.first_endpoint_is_local and only_local.all_endpoints_local
    only_cloud = make_client(ep(dead_base_url(), local=False))
    with pytest.raises(LLMUnavailable, match="no local endpoint"):
        await only_cloud.complete(MESSAGES, local_only=True)
    assert only_cloud.records == []  # type: ignore[attr-defined]


async def test_api_key_never_in_records_or_logs(
    openai_server: OpenAIServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    openai_server.script(
        status(500, f"boom {SECRET}"),
        status(401, f"Incorrect API key provided: {SECRET}", err_type="invalid_request_error"),
    )
    client = make_client(ep(openai_server, api_key=SECRET), ep(openai_server, "m2", api_key=SECRET))
    await client.complete(MESSAGES)
    with pytest.raises(ContextTooLong):
        openai_server.script(context_too_long())
        await client.complete(MESSAGES)
    assert len(records(client)) == 4
    for rec in records(client):
        assert SECRET not in repr(rec)
    assert caplog.records, "expected some log records to check"
    for log_record in caplog.records:
        assert SECRET not in log_record.getMessage()
        assert SECRET not in str(log_record.exc_text or "")
    assert SECRET not in repr(client.endpoints)


async def test_on_call_failure_does_not_break_the_answer(
    openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(record: CallRecord) -> None:
        raise RuntimeError("db locked")

    client = LLMClient([ep(openai_server)], 5.0, 10.0, broken, retry=FAST)
    try:
        assert (await client.complete(MESSAGES)).text.startswith("Fake answer")
    finally:
        await client.aclose()
    assert any("recording a model call failed" in r.getMessage() for r in caplog.records)


async def test_answers_are_capped_by_default(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    await make_client(ep(openai_server)).complete(MESSAGES)
    await make_client(ep(openai_server), default_max_tokens=None).complete(MESSAGES)
    capped, uncapped = openai_server.requests(CHAT)
    assert capped.body["max_tokens"] == 1024
    assert "max_tokens" not in uncapped.body


async def test_last_attempt_is_cut_to_the_total_budget(make_client: MakeClient) -> None:
    with running_openai_server() as first, running_openai_server() as second:
        first.script(delay(3.0), delay(3.0))
        second.script(delay(3.0))
        client = make_client(ep(first), ep(second), timeout_s=0.5, max_total_s=0.8)
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match=r"timeout|deadline"):
            await client.complete(MESSAGES)
        elapsed = time.monotonic() - started
    assert elapsed < 2.2  # the 3 s delays were cut
    errors = [r.error for r in records(client)]
    # the last attempt ends at its shortened timeout or at the call's deadline, first wins
    assert errors[0] == "timeout" and set(errors) <= {"timeout", "deadline"}


def test_total_budget_wins_over_the_request_timeout() -> None:
    client = LLMClient([], timeout_s=180.0, max_total_s=120.0)
    assert client.max_total_s == 120.0


async def test_many_concurrent_calls(openai_server: OpenAIServer, make_client: MakeClient) -> None:
    client = make_client(ep(openai_server))
    questions = [f"câu hỏi số {i}" for i in range(40)]
    results = await asyncio.gather(
        *[
            client.complete([{"role": "user", "content": q}], family_id=i)
            for i, q in enumerate(questions)
        ]
    )
    assert [r.text for r in results] == [f"Fake answer about: {q}" for q in questions]
    assert sorted(r.family_id or 0 for r in records(client)) == list(range(40))


async def test_abandoned_stream_is_cancelled_and_recorded(make_client: MakeClient) -> None:
    with running_openai_server(chunk_delay_s=0.05) as server:
        server.script(reply("một hai ba bốn năm sáu bảy tám chín mười " * 5))
        client = make_client(ep(server))
        handle = client.stream(MESSAGES)
        async for _delta in handle:
            break
        await handle.aclose()
        with pytest.raises(RuntimeError):
            _ = handle.result
    assert [r.error for r in records(client)] == ["cancelled"]


async def test_waits_while_llama_cpp_loads_the_model(
    openai_server: OpenAIServer, make_client: MakeClient
) -> None:
    loading = status(503, "Loading model", err_type="unavailable_error")
    openai_server.script(*[loading] * 5)
    policy = RetryPolicy(3, 0.01, 0.05, 2.0, endpoint_budget_s=10.0, loading_poll_s=0.05)
    client = make_client(ep(openai_server), retry=policy)
    result = await client.complete(MESSAGES)
    assert result.text.startswith("Fake answer")
    assert len(openai_server.requests(CHAT)) == 6  # more than attempts_per_endpoint
