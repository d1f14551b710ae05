"""Settings from the environment and `.env`, validated once at start.

A bad value stops the program with one line naming the variable, never a traceback.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from bot.core.endpoints import Endpoint, endpoints_from
from bot.core.endpoints import check_url as _check_url
from bot.core.errors import ConfigError

__all__ = ["Endpoint", "Settings", "load_settings"]

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TELEGRAM_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
ZALO_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]+:[A-Za-z0-9_-]{8,}$")
DEFAULT_TELEGRAM_BASE = "https://api.telegram.org/bot"
DEFAULT_TELEGRAM_FILE_BASE = "https://api.telegram.org/file/bot"
DEFAULT_ZALO_BASE = "https://bot-api.zaloplatforms.com/bot"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything Hearth reads from its environment."""

    db_path: Path = Path("data/hearth.db")
    admins: frozenset[str] = frozenset()
    endpoints: tuple[Endpoint, ...] = ()
    llm_timeout_s: float = 60.0
    telegram_token: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_rate_limit: bool = True
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    telegram_webhook_listen: str = "127.0.0.1:8443"
    zalo_token: str | None = field(default=None, repr=False)
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com/bot"
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: str | None = field(default=None, repr=False)
    zalo_webhook_listen: str = "127.0.0.1:8444"
    log_level: str = "INFO"
    log_content: str = "full"
    history_tokens: int = 1500
    context_tokens: int = 3000
    member_rate_per_min: int = 20
    family_concurrency: int = 2
    max_message_chars: int = 4000
    llm_max_total_s: float = 120.0
    llm_max_answer_chars: int = 32_000
    import_max_bytes: int = 5 * 1024 * 1024
    import_max_rows: int = 20_000
    import_max_entry_chars: int = 20_000
    family_max_entries: int = 5_000
    media_max_bytes: int = 10 * 1024 * 1024  # a photo or voice note downloaded at most
    voice_max_seconds: int = 180
    media_fetch_s: float = 30.0  # a media download's deadline
    kb_photo_max_bytes: int = 2 * 1024 * 1024  # a photo kept with a knowledge entry

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, so logging can scrub them."""
        values = [
            self.telegram_token,
            self.zalo_token,
            self.telegram_webhook_secret,
            self.zalo_webhook_secret,
        ]
        values += [e.api_key for e in self.endpoints]
        return tuple(v for v in values if v and len(v) >= 4)


SECRET_VARS = (
    "TELEGRAM_BOT_TOKEN",
    "ZALO_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "ZALO_WEBHOOK_SECRET",
    "LLM_API_KEY",
)


def read_dotenv(path: Path) -> dict[str, str]:
    """A `.env` file's values through python-dotenv (quotes, comments, `export`)."""
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path, encoding="utf-8").items() if v is not None}


def raw_environment(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> dict[str, str]:
    """`.env` under the real environment, unvalidated: what settings are read from."""
    env: dict[str, str] = {}
    if dotenv is not None:
        env.update(read_dotenv(dotenv))
    env.update(os.environ if environ is None else environ)
    return env


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Every secret the environment holds, even where it does not validate: the CLI masks
    them in the one line it prints on any failure."""
    values = [env.get(name, "").strip() for name in SECRET_VARS]
    try:
        endpoints = json.loads(env.get("LLM_ENDPOINTS", "") or "[]")
    except ValueError:
        endpoints = []
    if isinstance(endpoints, list):
        values += [str(e.get("api_key") or "") for e in endpoints if isinstance(e, dict)]
    return tuple(v for v in values if len(v) >= 4)


def _positive(env: Mapping[str, str], var: str, default: float) -> float:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{var}: {raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{var}: must be greater than 0")
    return value


def _check_db_path(path: Path) -> Path:
    parent = path.parent if str(path.parent) else Path(".")
    probe = parent
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"HEARTH_DB: {probe} is not a directory")
    if path.exists() and path.is_dir():
        raise ConfigError(f"HEARTH_DB: {path} is a directory, not a database file")
    if probe.exists() and not os.access(probe, os.W_OK):
        raise ConfigError(f"HEARTH_DB: {probe} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"HEARTH_DB: {path} is not writable")
    return path


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Merge `.env` under the real environment and validate every value."""
    env = raw_environment(environ, dotenv)

    admins = frozenset(a.strip() for a in env.get("HEARTH_ADMINS", "").split(",") if a.strip())
    for admin in admins:
        if ":" not in admin:
            raise ConfigError(f"HEARTH_ADMINS: {admin!r} should look like platform:user_id")

    level = env.get("HEARTH_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise ConfigError(f"HEARTH_LOG_LEVEL: {level!r} is not one of {', '.join(LOG_LEVELS)}")
    content = env.get("HEARTH_LOG_CONTENT", "full").strip().lower() or "full"
    if content not in ("full", "redacted"):
        raise ConfigError("HEARTH_LOG_CONTENT: must be 'full' or 'redacted'")

    tg_token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
    if tg_token and not TELEGRAM_TOKEN_RE.match(tg_token):
        raise ConfigError("TELEGRAM_BOT_TOKEN: does not look like a BotFather token (123456:ABC…)")
    zalo_token = env.get("ZALO_BOT_TOKEN", "").strip() or None
    if zalo_token and not ZALO_TOKEN_RE.match(zalo_token):
        raise ConfigError("ZALO_BOT_TOKEN: does not look like a Zalo bot token (id:secret)")

    rate = env.get("TELEGRAM_RATE_LIMIT", "on").strip().lower() or "on"
    if rate not in ("on", "off"):
        raise ConfigError("TELEGRAM_RATE_LIMIT: must be 'on' or 'off'")

    webhook = env.get("TELEGRAM_WEBHOOK_URL", "").strip() or None
    if webhook:
        _check_url("TELEGRAM_WEBHOOK_URL", webhook)
    secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
    if webhook and not secret:  # without it anyone who learns the URL can forge updates
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL")
    zalo_webhook = env.get("ZALO_WEBHOOK_URL", "").strip() or None
    if zalo_webhook:
        _check_url("ZALO_WEBHOOK_URL", zalo_webhook)
    zalo_secret = env.get("ZALO_WEBHOOK_SECRET", "").strip() or None
    if zalo_secret and not 8 <= len(zalo_secret) <= 256:
        raise ConfigError("ZALO_WEBHOOK_SECRET: must be 8-256 characters")

    tg_base = env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_TELEGRAM_BASE
    tg_file = env.get("TELEGRAM_API_BASE_FILE_URL", "").strip() or DEFAULT_TELEGRAM_FILE_BASE
    zalo_base = env.get("ZALO_API_BASE_URL", "").strip() or DEFAULT_ZALO_BASE
    _check_url("TELEGRAM_API_BASE_URL", tg_base)
    _check_url("TELEGRAM_API_BASE_FILE_URL", tg_file)
    _check_url("ZALO_API_BASE_URL", zalo_base)

    return Settings(
        db_path=_check_db_path(Path(env.get("HEARTH_DB", "").strip() or "data/hearth.db")),
        admins=admins,
        endpoints=endpoints_from(env),
        llm_timeout_s=_positive(env, "LLM_TIMEOUT_S", 60.0),
        telegram_token=tg_token,
        telegram_api_base_url=tg_base,
        telegram_api_base_file_url=tg_file,
        telegram_rate_limit=rate == "on",
        telegram_webhook_url=webhook,
        telegram_webhook_secret=secret,
        telegram_webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN", "").strip() or "127.0.0.1:8443",
        zalo_token=zalo_token,
        zalo_api_base_url=zalo_base,
        zalo_webhook_url=zalo_webhook,
        zalo_webhook_secret=zalo_secret,
        zalo_webhook_listen=env.get("ZALO_WEBHOOK_LISTEN", "").strip() or "127.0.0.1:8444",
        log_level=level,
        log_content=content,
        history_tokens=int(_positive(env, "HEARTH_HISTORY_TOKENS", 1500)),
        context_tokens=int(_positive(env, "HEARTH_CONTEXT_TOKENS", 3000)),
        member_rate_per_min=int(_positive(env, "HEARTH_MEMBER_RATE_PER_MIN", 20)),
        family_concurrency=int(_positive(env, "HEARTH_FAMILY_CONCURRENCY", 2)),
        max_message_chars=int(_positive(env, "HEARTH_MAX_MESSAGE_CHARS", 4000)),
        llm_max_total_s=_positive(env, "LLM_MAX_TOTAL_S", 120.0),
        llm_max_answer_chars=int(_positive(env, "LLM_MAX_ANSWER_CHARS", 32_000)),
        import_max_bytes=int(_positive(env, "HEARTH_IMPORT_MAX_BYTES", 5 * 1024 * 1024)),
        import_max_rows=int(_positive(env, "HEARTH_IMPORT_MAX_ROWS", 20_000)),
        import_max_entry_chars=int(
            min(_positive(env, "HEARTH_IMPORT_MAX_ENTRY_CHARS", 20_000), 20_000)
        ),
        family_max_entries=int(_positive(env, "HEARTH_FAMILY_MAX_ENTRIES", 5_000)),
        media_max_bytes=int(_positive(env, "HEARTH_MEDIA_MAX_BYTES", 10 * 1024 * 1024)),
        voice_max_seconds=int(_positive(env, "HEARTH_VOICE_MAX_SECONDS", 180)),
        media_fetch_s=_positive(env, "HEARTH_MEDIA_FETCH_S", 30.0),
        kb_photo_max_bytes=int(_positive(env, "HEARTH_KB_PHOTO_MAX_BYTES", 2 * 1024 * 1024)),
    )
