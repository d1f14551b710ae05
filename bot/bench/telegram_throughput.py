"""Sustained messages per second through the real Telegram adapter vs a bare PTB echo bot."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from bot.bench import loopback


def missing_reason() -> str | None:
    """None when both the adapter and the loopback Bot API are available."""
    try:
        adapter = importlib.import_module("bot.platforms.telegram")
    except ImportError as exc:
        return f"bot/platforms/telegram.py not available ({exc})"
    if not hasattr(adapter, "run_telegram"):
        return "bot.platforms.telegram has no run_telegram"
    _, reason = loopback.load("telegram_api")
    return reason


def measure(
    db: Path, workdir: Path, llm_url: str, chats: int, messages: int, families: int
) -> dict[str, Any]:
    """Hearth (`hearth run` in a child process) and the echo bot against one loopback server."""
    raise NotImplementedError("filled in once the Telegram adapter is on main")
