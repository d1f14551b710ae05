"""The console chat: the same pipeline on stdin/stdout, interactive or from a pipe."""

from __future__ import annotations

import asyncio
import io
import sys
import time
from pathlib import Path
from typing import TextIO

from bot.calendar.service import start_reminders, stop_reminders
from bot.core.types import Attachment, Incoming, Reply
from bot.pipeline import Pipeline


class ConsoleOutbox:
    """Prints replies; buttons become the equivalent commands on one line."""

    wants_preview = False

    def __init__(self, out: TextIO, counter: list[int]) -> None:
        self.out = out
        self._counter = counter

    async def typing(self) -> None:
        """Nothing to show on a terminal."""

    async def preview(self, text: str) -> None:
        """Console prints only final answers."""

    async def close(self) -> None:
        """Nothing runs in the background."""

    async def send(self, reply: Reply) -> list[str]:
        """Print the reply; a document is written next to the working directory."""
        self._counter[0] += 1
        lines = [reply.text]
        if reply.buttons:
            lines.append(" · ".join(f"{b.label} {b.command}" for b in reply.buttons))
        if reply.document is not None:
            name, data = reply.document
            target = Path(name).name
            await asyncio.to_thread(Path(target).write_bytes, data)
            lines.append(f"[{target}: {len(data)} bytes]")
        self.out.write("\n".join(lines) + "\n\n")
        self.out.flush()
        return [f"out-{self._counter[0]}"]


def _attachment_for(text: str) -> Attachment | None:
    """`/kb import PATH` in the console attaches the file, like a captioned document."""
    parts = text.split(maxsplit=2)
    if len(parts) == 3 and parts[0] == "/kb" and parts[1] == "import":
        path = Path(parts[2].strip()).expanduser()
        if path.is_file():
            return Attachment(
                "document",
                path.name,
                None,
                lambda: asyncio.to_thread(path.read_bytes),
                path.stat().st_size,
            )
    return None


async def run_console(
    pipeline: Pipeline,
    family: str = "home",
    user: str = "me",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Read one message per line until end of input; returns the number of messages."""
    inp = stdin or sys.stdin
    if stdin is None and isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # a broken byte must not end the chat
    out = stdout or sys.stdout
    run_id = time.time_ns()  # message ids unique across runs of the console
    counter = [0]
    outbox = ConsoleOutbox(out, counter)
    interactive = inp.isatty()
    count = 0
    stop = asyncio.Event()
    reminders = start_reminders(pipeline, "console", lambda chat_id: outbox, stop)
    try:
        count = await _chat_lines(pipeline, inp, out, outbox, family, user, run_id, interactive)
    finally:
        stop.set()
        await stop_reminders(reminders, stop)
    return count


async def _chat_lines(
    pipeline: Pipeline,
    inp: TextIO,
    out: TextIO,
    outbox: ConsoleOutbox,
    family: str,
    user: str,
    run_id: int,
    interactive: bool,
) -> int:
    count = 0
    while True:
        if interactive:
            out.write("> ")
            out.flush()
        line = await asyncio.to_thread(inp.readline)
        if not line:
            break
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        count += 1
        attachment = _attachment_for(text.strip())
        incoming = Incoming(
            platform="console",
            chat_id=family,
            user_id=user,
            user_name="" if user == "me" else user,
            message_id=f"{run_id}-{count}",
            text="/kb import" if attachment is not None else text,
            chat_kind="private",
            attachment=attachment,
        )
        await pipeline.handle(incoming, outbox)
    return count
