"""Reading model answers without the SDK's typed layer: what counts as malformed."""

from __future__ import annotations

import pytest

from bot.llm.errors import MalformedResponse
from bot.llm.wire import chat_params, read_completion, read_embeddings


def completion(content: object, **extra: object) -> dict[str, object]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]} | extra


def test_completion_text_model_and_usage() -> None:
    answer = read_completion(
        completion("xin chào", model="gemma", usage={"prompt_tokens": 12, "completion_tokens": 3})
    )
    assert (answer.text, answer.model) == ("xin chào", "gemma")
    assert (answer.prompt_tokens, answer.completion_tokens) == (12, 3)


def test_completion_without_usage_or_model() -> None:
    answer = read_completion(completion("ok", model="", usage={"prompt_tokens": True}))
    assert answer.model is None and answer.prompt_tokens is None


@pytest.mark.parametrize(
    "body",
    [
        None,
        "Fake answer",
        [],
        {},
        {"choices": []},
        {"choices": [{"message": None}]},
        {"choices": "x"},
        completion(None),  # a tool call or refusal: no text to show
        completion(["a", "b"]),
    ],
)
def test_malformed_completions(body: object) -> None:
    with pytest.raises(MalformedResponse):
        read_completion(body)


def test_embeddings_follow_the_index_not_the_order() -> None:
    body = {
        "data": [{"index": 1, "embedding": [0, 1]}, {"index": 0, "embedding": [1.5, 0]}],
        "usage": {"prompt_tokens": 4},
    }
    assert read_embeddings(body, 2) == ([[1.5, 0.0], [0.0, 1.0]], 4)


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ({"data": [{"index": 0, "embedding": [1.0]}]}, 2),
        ({"data": [{"index": 0, "embedding": "AAAA"}]}, 1),
        ({"data": [{"index": 0, "embedding": ["x"]}]}, 1),
        ({"data": [{"embedding": [1.0]}]}, 1),
        ({"object": "list"}, 1),
        ("not json", 1),
    ],
)
def test_malformed_embeddings(body: object, count: int) -> None:
    with pytest.raises(MalformedResponse):
        read_embeddings(body, count)


def test_chat_params_only_cap_when_asked_and_cache_prompts_on_local_servers() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert chat_params("m", messages, None, stream=False) == {"model": "m", "messages": messages}
    local = chat_params("m", messages, None, stream=False, local=True)
    assert local["extra_body"] == {"cache_prompt": True}
    streamed = chat_params("m", messages, 50, stream=True)
    assert streamed["max_tokens"] == 50 and streamed["stream"] is True
    assert streamed["stream_options"] == {"include_usage": True}
