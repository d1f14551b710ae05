"""Logging to stderr with secrets scrubbed from every record."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping

from bot.core.config import raw_environment, secret_values

_registered: tuple[str, ...] = ()


def scrub(text: str, env: Mapping[str, str] | None = None) -> str:
    """Mask every known secret (the configured ones and any the environment holds) in a
    line about to be printed, so no error message can carry a token."""
    found = secret_values(raw_environment() if env is None else env)
    for secret in sorted({*_registered, *found}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class SecretFilter(logging.Filter):
    """Replace any configured secret in a log record with a fixed mask."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, scrub it, and keep the record."""
        if not self.secrets:
            return True
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, "***")
        record.msg, record.args = message, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self.secrets:
                record.exc_text = record.exc_text.replace(secret, "***")
        return True


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    """One stderr handler for the whole process; noisy libraries kept at WARNING."""
    global _registered
    _registered = tuple({s for s in (*secrets, *secret_values(raw_environment())) if s})
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(_registered))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpx2", "httpcore", "telegram", "openai", "aiosqlite", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
