"""The fault → outcome table: fault tests record what they verified; pytest prints it.

A row is recorded only after its test's assertions passed, so the table never claims an
outcome the run did not show. It is printed in the terminal summary and written to
`fault-table.md` in pytest's temporary folder (the run's tmp_path root, named in the
summary; the same table as in docs/promises.md): tests write nothing into the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Every fault the reliability issue names, in the order the table shows them.
EXPECTED = (
    "model 429 with Retry-After",
    "model 500",
    "model connection refused",
    "model timeout",
    "model stream cut in the middle",
    "model malformed body",
    "all model endpoints down",
    "database busy (lock held 1.5 s)",
    "database busy longer than busy_timeout",
    "database locked while the answer is being recorded",
    "reply cannot be delivered (network error on send)",
    "messenger 429 RetryAfter / flood wait (Zalo)",
    "messenger 5xx on send (Zalo)",
    "messenger network error on send (Zalo)",
    "messenger 429 RetryAfter / flood wait (Telegram)",
    "messenger 5xx on send (Telegram)",
    "bot killed (SIGKILL) while answering",
    "crash while a second message waits for its chat's turn",
    "same update delivered twice",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One verified fault and what the user and the database saw."""

    fault: str
    user_sees: str
    stored: str
    after_restart: str
    test: str


_ROWS: dict[str, Row] = {}


def record(
    request: pytest.FixtureRequest, fault: str, user_sees: str, stored: str, after_restart: str
) -> None:
    """Call at the very end of a passing fault test."""
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    _install(request.config, factory.getbasetemp() / "fault-table.md")
    _ROWS[fault] = Row(fault, user_sees, stored, after_restart, request.node.nodeid)


def table() -> str:
    """The Markdown table, expected faults first, unverified ones marked as such."""
    lines = [
        "| fault | the user sees | the message in the database | after a restart |",
        "|---|---|---|---|",
    ]
    order = list(EXPECTED) + sorted(k for k in _ROWS if k not in EXPECTED)
    for fault in order:
        row = _ROWS.get(fault)
        if row is None:
            lines.append(f"| {fault} | *not verified in this run* | | |")
        else:
            lines.append(f"| {fault} | {row.user_sees} | {row.stored} | {row.after_restart} |")
    return "\n".join(lines) + "\n"


class _Reporter:
    """A pytest plugin registered on first use: prints and writes the table at the end."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not _ROWS:
            return
        text = table()
        terminalreporter.write_sep("=", "fault → outcome (verified rows only)")
        terminalreporter.write(text)
        self.target.write_text("# Fault → outcome\n\n" + text, encoding="utf-8")
        terminalreporter.write_line(f"(also in {self.target})")


def _install(config: pytest.Config, target: Path) -> None:
    if config.pluginmanager.get_plugin("hearth-fault-table") is None:
        config.pluginmanager.register(_Reporter(target), "hearth-fault-table")
