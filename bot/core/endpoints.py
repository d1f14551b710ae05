"""Model endpoints from the environment: where they are, what they may be asked, their models.

`LLM_ENDPOINTS` (a JSON list, tried in order) wins over the single `LLM_BASE_URL`,
`LLM_MODEL`, `LLM_API_KEY`. An endpoint may declare what it can do (`capabilities`, or
`LLM_CAPABILITIES` for the single one); one that declares nothing is asked everything, and
a kind it refuses (404) is not asked again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from bot.core.errors import ConfigError

KINDS = ("chat", "vision", "transcription", "speech", "embeddings")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
DEFAULT_TRANSCRIPTION_MODEL = "whisper-1"
DEFAULT_SPEECH_MODEL = "tts-1"
DEFAULT_SPEECH_VOICE = "alloy"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One OpenAI-compatible endpoint; `local` endpoints may receive private context."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    local: bool = False
    name: str = ""
    capabilities: frozenset[str] | None = None  # None: every kind may be tried
    vision_model: str = ""
    transcription_model: str = DEFAULT_TRANSCRIPTION_MODEL
    speech_model: str = DEFAULT_SPEECH_MODEL
    speech_voice: str = DEFAULT_SPEECH_VOICE

    @property
    def label(self) -> str:
        """A log-safe name: the host and model, never the key."""
        return self.name or f"{urlparse(self.base_url).netloc}/{self.model}"

    def can(self, kind: str) -> bool:
        """Whether this endpoint may be asked for `kind` (chat, vision, speech …)."""
        return self.capabilities is None or kind in self.capabilities

    def model_for(self, kind: str) -> str:
        """The model name a call of this kind names."""
        if kind == "vision":
            return self.vision_model or self.model
        if kind == "transcription":
            return self.transcription_model
        if kind == "speech":
            return self.speech_model
        return self.model


def is_loopback(url: str) -> bool:
    """A URL on this machine: its endpoint is local (private context may go there)."""
    host = (urlparse(url).hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def check_url(var: str, url: str) -> str:
    """An http(s) URL with a host, or a ConfigError naming the variable."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{var}: {url!r} is not an http(s) URL")
    return url


def _capabilities(var: str, raw: object) -> frozenset[str] | None:
    if raw is None or raw == "" or raw == []:
        return None
    names = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{var}: a list of {', '.join(KINDS)}")
    kinds = frozenset(n.strip().lower() for n in names if n.strip())
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise ConfigError(f"{var}: unknown {', '.join(unknown)} (use {', '.join(KINDS)})")
    return kinds or None


def _text(item: Mapping[str, object], key: str, default: str) -> str:
    value = item.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else default


def _from_item(i: int, item: object) -> Endpoint:
    where = f"LLM_ENDPOINTS[{i}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: must be an object")
    base = item.get("base_url")
    model = item.get("model")
    if not isinstance(base, str) or not isinstance(model, str) or not model:
        raise ConfigError(f"{where}: needs string 'base_url' and 'model'")
    check_url(f"{where}.base_url", base)
    local = item.get("local")
    return Endpoint(
        base_url=base,
        model=model,
        api_key=str(item.get("api_key") or ""),
        local=is_loopback(base) if local is None else bool(local),
        name=str(item.get("name") or ""),
        capabilities=_capabilities(f"{where}.capabilities", item.get("capabilities")),
        vision_model=_text(item, "vision_model", ""),
        transcription_model=_text(item, "transcription_model", DEFAULT_TRANSCRIPTION_MODEL),
        speech_model=_text(item, "speech_model", DEFAULT_SPEECH_MODEL),
        speech_voice=_text(item, "speech_voice", DEFAULT_SPEECH_VOICE),
    )


def endpoints_from(env: Mapping[str, str]) -> tuple[Endpoint, ...]:
    """The endpoints the environment names, in the order they are tried."""
    raw = env.get("LLM_ENDPOINTS", "").strip()
    if raw:
        try:
            items = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"LLM_ENDPOINTS: not valid JSON ({exc.msg} at char {exc.pos})"
            ) from None
        if not isinstance(items, list) or not items:
            raise ConfigError("LLM_ENDPOINTS: must be a non-empty JSON list of objects")
        return tuple(_from_item(i, item) for i, item in enumerate(items))
    base = env.get("LLM_BASE_URL", "").strip()
    if not base:
        return ()
    check_url("LLM_BASE_URL", base)
    local_raw = env.get("LLM_LOCAL", "").strip().lower()
    return (
        Endpoint(
            base,
            env.get("LLM_MODEL", "").strip() or "default",
            env.get("LLM_API_KEY", "").strip(),
            is_loopback(base) if not local_raw else local_raw in ("1", "true", "yes", "on"),
            capabilities=_capabilities("LLM_CAPABILITIES", env.get("LLM_CAPABILITIES", "")),
            vision_model=env.get("LLM_VISION_MODEL", "").strip(),
            transcription_model=env.get("LLM_TRANSCRIPTION_MODEL", "").strip()
            or DEFAULT_TRANSCRIPTION_MODEL,
            speech_model=env.get("LLM_SPEECH_MODEL", "").strip() or DEFAULT_SPEECH_MODEL,
            speech_voice=env.get("LLM_SPEECH_VOICE", "").strip() or DEFAULT_SPEECH_VOICE,
        ),
    )
