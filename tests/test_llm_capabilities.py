"""Endpoints say what they can do: chat, vision, transcription, speech, embeddings — each
kind goes only to an endpoint that declares it (or declares nothing), with its own model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.config import Endpoint
from bot.core.errors import ConfigError, LLMUnavailable
from bot.llm import LLMClient, RetryPolicy
from tests.conftest import make_settings
from tests.servers.openai_server import CHAT, SPEECH, TRANSCRIPTIONS, running_openai_server

ONE_TRY = RetryPolicy(attempts_per_endpoint=1, backoff_initial_s=0.01, backoff_max_s=0.01)
PHOTO = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "Món này là món gì?"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/AAAA"}},
        ],
    }
]


def test_capabilities_and_models_come_from_the_environment(tmp_path: Path) -> None:
    one = make_settings(
        tmp_path,
        LLM_BASE_URL="http://127.0.0.1:9/v1",
        LLM_MODEL="gemma",
        LLM_CAPABILITIES="chat, vision",
        LLM_VISION_MODEL="llava",
        LLM_SPEECH_VOICE="nova",
    ).endpoints[0]
    assert one.capabilities == {"chat", "vision"}
    assert (one.model_for("vision"), one.model_for("chat"), one.speech_voice) == (
        "llava",
        "gemma",
        "nova",
    )
    assert one.can("vision") and not one.can("speech")
    listed = make_settings(
        tmp_path,
        LLM_ENDPOINTS=json.dumps(
            [
                {"base_url": "https://api.example/v1", "model": "big"},
                {
                    "base_url": "http://127.0.0.1:8080/v1",
                    "model": "small",
                    "capabilities": ["transcription", "speech"],
                    "transcription_model": "whisper-large-v3",
                    "speech_model": "piper",
                },
            ]
        ),
    ).endpoints
    assert listed[0].capabilities is None and listed[0].can("speech")  # declares nothing
    assert listed[1].model_for("transcription") == "whisper-large-v3"
    assert listed[1].model_for("speech") == "piper" and not listed[1].can("chat")


@pytest.mark.parametrize(
    ("env", "var"),
    [
        (
            {"LLM_BASE_URL": "http://127.0.0.1:9/v1", "LLM_CAPABILITIES": "chat,smell"},
            "LLM_CAPABILITIES",
        ),
        (
            {
                "LLM_ENDPOINTS": json.dumps(
                    [{"base_url": "http://x/v1", "model": "m", "capabilities": ["chat", "smell"]}]
                )
            },
            "LLM_ENDPOINTS[0].capabilities",
        ),
    ],
)
def test_a_wrong_capability_names_its_variable(
    tmp_path: Path, env: dict[str, str], var: str
) -> None:
    with pytest.raises(ConfigError, match=var.replace("[", r"\[").replace("]", r"\]")):
        make_settings(tmp_path, **env)


async def test_a_photo_goes_to_the_endpoint_that_sees_with_its_vision_model() -> None:
    with running_openai_server() as text_only, running_openai_server() as sees:
        client = LLMClient(
            [
                Endpoint(text_only.base_url, "chat-model", capabilities=frozenset({"chat"})),
                Endpoint(sees.base_url, "gemma", vision_model="llava"),
            ],
            5.0,
            10.0,
            retry=ONE_TRY,
        )
        try:
            assert client.can("vision") and client.can("chat")
            await client.complete(PHOTO, kind="vision")
            await client.complete([{"role": "user", "content": "chào"}])
        finally:
            await client.aclose()
        assert [r.body["model"] for r in sees.requests(CHAT)] == ["llava"]
        assert [r.body["model"] for r in text_only.requests(CHAT)] == ["chat-model"]
        assert sees.requests(CHAT)[0].body["messages"] == PHOTO


async def test_no_capable_endpoint_says_so_before_any_call() -> None:
    with running_openai_server() as server:
        only_chat = Endpoint(server.base_url, "m", capabilities=frozenset({"chat"}))
        client = LLMClient([only_chat], 5.0, 10.0, retry=ONE_TRY)
        try:
            assert not client.can("vision") and not client.can("speech")
            with pytest.raises(LLMUnavailable, match="vision"):
                await client.complete(PHOTO, kind="vision")
            assert await client.speak("xin chào") is None
            assert await client.transcribe(b"OggS", "v.ogg") is None
        finally:
            await client.aclose()
        assert server.history == []


async def test_speech_and_transcription_use_each_endpoints_models() -> None:
    with running_openai_server() as server:
        ep = Endpoint(
            server.base_url, "m", transcription_model="whisper-vi", speech_model="piper-vi"
        )
        client = LLMClient([ep], 5.0, 10.0, retry=ONE_TRY)
        try:
            audio = await client.speak("Bà ơi, cơm chín rồi")
            heard = await client.transcribe(b"OggS voice", "voice.ogg")
        finally:
            await client.aclose()
    assert audio == b"OggS" + "Bà ơi, cơm chín rồi".encode()
    assert heard == "xin chào cả nhà"
    spoken = server.requests(SPEECH)[0].body
    assert (spoken["model"], spoken["voice"], spoken["response_format"]) == (
        "piper-vi",
        "alloy",
        "opus",
    )
    assert server.requests(TRANSCRIPTIONS)[0].body["model"] == "whisper-vi"


async def test_an_endpoint_without_speech_is_not_asked_again() -> None:
    with running_openai_server(speech=False) as server:
        client = LLMClient([Endpoint(server.base_url, "m")], 5.0, 10.0, retry=ONE_TRY)
        try:
            assert await client.speak("một") is None
            assert not client.can("speech")
            assert await client.speak("hai") is None
        finally:
            await client.aclose()
        assert len(server.requests(SPEECH)) == 1
