"""The Zalo adapter: a small httpx client for the Zalo Bot API, polling or webhook."""

from bot.platforms.zalo.runner import run_zalo

__all__ = ["run_zalo"]
