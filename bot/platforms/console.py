"""The console chat: the same pipeline on stdin/stdout, interactive or from a pipe."""

from __future__ import annotations

import asyncio
import codecs
import io
import os
import sys
import threading
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
        if reply.voice:
            lines.append(
                f"[🔊 {len(reply.voice)} voice note(s), {sum(map(len, reply.voice))} bytes]"
            )
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
    if interactive:
        out.write(banner(pipeline, family, user))
        out.flush()
    lines = TerminalLines(inp) if interactive and inp is sys.stdin else None
    count = 0
    stop = asyncio.Event()
    reminders = start_reminders(pipeline, "console", lambda chat_id: outbox, stop)
    try:
        count = await _chat_lines(
            pipeline, lines or inp, out, outbox, family, user, run_id, interactive
        )
    finally:
        stop.set()
        await stop_reminders(reminders, stop)
    return count


def banner(pipeline: Pipeline, family: str, user: str) -> str:
    """Who is chatting where, with which model, and how to leave (an interactive console)."""
    endpoints = pipeline.services.settings.endpoints
    model = (
        endpoints[0].label
        if endpoints
        else "no model (answers from the knowledge base) · chưa có mô hình"
    )
    return (
        f"Hearth · family/gia đình: {family} · you/bạn: {user}\n"
        f"model/mô hình: {model}\n"
        "Quit/thoát: Ctrl-D or/hoặc Ctrl-C · /help for the commands/xem lệnh\n\n"
    )


class TerminalLines:
    """Lines typed at a terminal, read by a daemon thread straight from the file descriptor:
    a line waiting in `readline` on a worker thread kept the process alive after Ctrl-C
    until Enter was pressed (asyncio waits for its worker threads before it exits)."""

    def __init__(self, inp: TextIO) -> None:
        self.fd = inp.fileno()
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        threading.Thread(target=self._read, name="console-input", daemon=True).start()

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        while True:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            while "\n" in pending:
                line, pending = pending.split("\n", 1)
                self.loop.call_soon_threadsafe(self.queue.put_nowait, line + "\n")
            if not chunk:  # Ctrl-D at the start of a line, or the terminal went away
                self.loop.call_soon_threadsafe(self.queue.put_nowait, pending)
                return

    async def readline(self) -> str:
        """The next line with its newline; "" at the end of input."""
        return await self.queue.get()


async def _next_line(inp: TextIO | TerminalLines) -> str:
    if isinstance(inp, TerminalLines):
        return await inp.readline()
    return await asyncio.to_thread(inp.readline)


async def _chat_lines(
    pipeline: Pipeline,
    inp: TextIO | TerminalLines,
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
        line = await _next_line(inp)
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
