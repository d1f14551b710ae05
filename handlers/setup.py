"""All command registration in one place."""

from __future__ import annotations

import importlib

from handlers.base import Registry

# Each module exposes register(reg). Order is the order /help shows.
HANDLER_MODULES = (
    "handlers.help",
    "handlers.memory",
    "handlers.feedback",
    "handlers.kb",
    "handlers.review",
    "handlers.saved",
    "handlers.privacy",
    "handlers.family",
    "handlers.calendar",
    "handlers.why",
)


def build_registry() -> Registry:
    """Register every handler module's commands; a duplicate name fails loudly at start."""
    reg = Registry()
    for name in HANDLER_MODULES:
        importlib.import_module(name).register(reg)
    return reg
