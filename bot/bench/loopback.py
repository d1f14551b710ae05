"""The tests' loopback servers (model, Bot API), borrowed from a source checkout.

`tests/` is not shipped in the wheel; when it is absent the measurements that need a
server report null with the reason, instead of measuring something else.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import bot

# Two settings of the stdlib servers would otherwise be what the bench measures:
# 1000 chats connect at once, and a short listen backlog makes the kernel drop SYNs (the
# client retries a second later); and Nagle's algorithm (below).
BENCH_BACKLOG = 2048


def source_root() -> Path | None:
    """The repository root when Hearth runs from a source checkout, else None."""
    root = Path(bot.__file__).resolve().parent.parent
    return root if (root / "tests" / "servers" / "__init__.py").exists() else None


def load(module: str) -> tuple[ModuleType | None, str | None]:
    """Import `tests.servers.<module>`; returns (module, None) or (None, reason)."""
    root = source_root()
    if root is None:
        return None, "needs a source checkout (tests/servers is not installed with the package)"
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        mod = importlib.import_module(f"tests.servers.{module}")
    except ImportError as exc:
        return None, f"tests/servers/{module}.py not available ({exc})"
    server_cls = getattr(mod, "_Server", None)
    if server_cls is not None and getattr(server_cls, "request_queue_size", 0) < BENCH_BACKLOG:
        server_cls.request_queue_size = BENCH_BACKLOG
    handler_cls = getattr(mod, "_Handler", None)
    if handler_cls is not None:
        # Headers and body leave in separate writes; with Nagle on, the body waits for the
        # client's delayed ACK (~40 ms on Linux) on every keep-alive request.
        handler_cls.disable_nagle_algorithm = True
    return mod, None


def model_client_reason() -> str | None:
    """None when Hearth's model client exists; else why the model phases cannot run."""
    try:
        importlib.import_module("bot.core.llm")
    except ImportError as exc:
        return f"bot/core/llm.py not available ({exc})"
    return None
