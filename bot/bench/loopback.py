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
        return importlib.import_module(f"tests.servers.{module}"), None
    except ImportError as exc:
        return None, f"tests/servers/{module}.py not available ({exc})"
