"""Environments for the `hearth` processes a test starts."""

from __future__ import annotations

import os

# What coverage.py's `patch = ["subprocess"]` hands a child Python so it measures itself.
COVERAGE_VARS = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")


def measured(env: dict[str, str]) -> dict[str, str]:
    """`env` plus coverage's variables: a child built from a clean environment is still
    counted by `make coverage` (and nothing changes when coverage is not running)."""
    return {**{k: os.environ[k] for k in COVERAGE_VARS if k in os.environ}, **env}
