"""The loopback model of the bench: a fixed answer, streamed over about 300 ms.

The first token comes after FIRST_TOKEN_S, then the answer's words follow CHUNK_S apart,
as a local model streams them. A plain (non-streamed) completion waits FIRST_TOKEN_S and
arrives whole. How long each kind takes is measured once by a lone client before the runs
(`calibrate`), and that is the model's own time subtracted from a reply's time.
"""

from __future__ import annotations

import itertools
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import openai

FIRST_TOKEN_S = 0.1
CHUNK_S = 0.008
ANSWER = (
    "Mình gợi ý: ướp cá với nước mắm và tiêu mười lăm phút, rồi kho lửa nhỏ đến khi"
    " nước sánh lại nhé."
)
MODEL_NAME = "bench-model"
TAG_RE = re.compile(r"\(câu (\d+)\)")
QUESTION_RE = re.compile(r"[^\n]*\(câu (\d+)\)\s*")  # a turn that is one tagged message
CALIBRATION_RUNS = 5


_TAGS = itertools.count(1)


def new_tag() -> int:
    """A number no other message of this bench run carries."""
    return next(_TAGS)


def tagged(text: str, n: int) -> str:
    """The message text with its tag: the model's answer repeats it, so an answer at the Bot
    API and the model requests behind it are known to be this message's."""
    return f"{text} (câu {n})"


def tags_in(text: str) -> list[int]:
    """The tags a text carries."""
    return [int(t) for t in TAG_RE.findall(text)]


def _user_text(body: Any) -> str:
    messages = body.get("messages") if isinstance(body, dict) else None
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


def _answer(messages: Any) -> str:
    time.sleep(FIRST_TOKEN_S)  # the model reads the prompt (in the server's request thread)
    found = QUESTION_RE.fullmatch(_user_text({"messages": messages}))
    return tagged(ANSWER, int(found.group(1))) if found else ANSWER


@dataclass(frozen=True, slots=True)
class ModelTimes:
    """What one streamed and one plain answer take, seen by a lone client (seconds)."""

    stream_s: float
    plain_s: float


class BenchModel:
    """A running loopback model server and the times its answers take."""

    def __init__(self, servers: ModuleType) -> None:
        self.server = servers.OpenAIServer(reply_fn=_answer, chunk_delay_s=CHUNK_S).start()
        self.chat_path = servers.CHAT
        self.times = ModelTimes(0.0, 0.0)

    @property
    def base_url(self) -> str:
        """The value for LLM_BASE_URL."""
        return str(self.server.base_url)

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def calibrate(self) -> ModelTimes:
        """Time streamed and plain answers from one idle client: the model's own time."""
        client = openai.OpenAI(base_url=self.base_url, api_key="bench", max_retries=0)
        # tagged like every message of a run, so the answer is as long as theirs
        messages: Any = [{"role": "user", "content": tagged("Nấu canh chua thế nào?", 0)}]
        streamed, plain = [], []
        try:
            for _ in range(CALIBRATION_RUNS):
                began = time.perf_counter()
                for _chunk in client.chat.completions.create(
                    model=MODEL_NAME, messages=messages, stream=True
                ):
                    pass
                streamed.append(time.perf_counter() - began)
                began = time.perf_counter()
                client.chat.completions.create(model=MODEL_NAME, messages=messages)
                plain.append(time.perf_counter() - began)
        finally:
            client.close()
        self.times = ModelTimes(statistics.median(streamed), statistics.median(plain))
        return self.times

    def mark(self) -> int:
        """Where the chat requests of a run begin (pass to the two readers below)."""
        return len(self.server.requests(self.chat_path))

    def _answer_requests(self, since: int) -> Iterator[tuple[int | None, bool]]:
        """(tag, streamed) of each chat request since `since`; the tag is None unless the
        last user turn is one tagged message alone (a summary's turn is a conversation)."""
        for request in self.server.requests(self.chat_path)[since:]:
            body = request.body if isinstance(request.body, dict) else {}
            found = QUESTION_RE.fullmatch(_user_text(body))
            yield (int(found.group(1)) if found else None), bool(body.get("stream"))

    def seconds_by_tag(self, since: int) -> dict[int, float]:
        """The model's own time spent answering each tagged message (its requests, summed)."""
        spent: dict[int, float] = defaultdict(float)
        for n, streamed in self._answer_requests(since):
            if n is not None:
                spent[n] += self.times.stream_s if streamed else self.times.plain_s
        return dict(spent)

    def chat_requests(self, since: int) -> dict[str, int]:
        """Answer requests streamed and plain, and the others (summaries, calibration)."""
        counts = {"answers_streamed": 0, "answers_plain": 0, "other": 0}
        for n, streamed in self._answer_requests(since):
            key = "other" if n is None else "answers_streamed" if streamed else "answers_plain"
            counts[key] += 1
        return counts
