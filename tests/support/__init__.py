"""Test helpers shared by suites: a recording outbox and an app built on a real file."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.core.types import Incoming, Reply

_ids = itertools.count(1)


@dataclass
class RecordingOutbox:
    """An adapter stand-in that keeps every reply and preview it was given."""

    wants_preview: bool = False
    sent: list[Reply] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)
    typing_calls: int = 0
    closed: int = 0

    async def typing(self) -> None:
        self.typing_calls += 1

    async def close(self) -> None:
        """What an adapter calls once the pipeline is done with the turn."""
        self.closed += 1

    async def preview(self, text: str) -> None:
        self.previews.append(text)

    async def send(self, reply: Reply) -> list[str]:
        self.sent.append(reply)
        return [f"sent-{next(_ids)}"]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.sent]

    @property
    def last(self) -> Reply:
        return self.sent[-1]


class DownOutbox(RecordingOutbox):
    """A messenger whose every send fails with a network error (the reply stays pending)."""

    async def send(self, reply: Reply) -> list[str]:
        raise ConnectionError("network is unreachable")


def msg(
    text: str,
    *,
    chat: str = "fam1",
    user: str = "u1",
    platform: str = "console",
    message_id: str | None = None,
    kind: str = "private",
    **extra: object,
) -> Incoming:
    """An Incoming with sensible defaults and a fresh message id."""
    return Incoming(
        platform=platform,
        chat_id=chat,
        user_id=user,
        user_name=extra.pop("user_name", user),  # type: ignore[arg-type]
        message_id=message_id or f"m{next(_ids)}",
        text=text,
        chat_kind=kind,  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )
