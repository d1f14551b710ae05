"""Libraries through their front door: no private attribute or module of openai,
python-telegram-bot, aiosqlite or httpx is touched anywhere in Hearth's code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge")
LIBRARIES = r"(?:openai|telegram|aiosqlite|httpx)"
FORBIDDEN = {
    "a private module of a library": re.compile(rf"\b(?:from|import)\s+{LIBRARIES}(?:\.\w+)*\._"),
    "a private name of a library": re.compile(rf"\b{LIBRARIES}(?:\.\w+)*\._[a-z]"),
    # private attributes other objects than our own (`self._x`) carry
    "a private attribute of a library object": re.compile(
        r"(?<!self)(?<!cls)\.(?:_client|_conn|_execute|_request|_transport|_pool|_bot|_updater"
        r"|_make_status_error\w*|_idempotency_header|_build_request|_post|_get)\b"
    ),
    "Hearth's old hand-written HTTP client": re.compile(r"http_lite|llm_post|llm_sse|LiteBot"),
    "SDK headers made by hand": re.compile(r"x-stainless", re.IGNORECASE),
}


def offences() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for what, pattern in FORBIDDEN.items():
                    if pattern.search(line):
                        found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    return found


def test_no_private_api_of_a_library_is_used() -> None:
    assert offences() == []


def test_the_check_catches_what_it_names() -> None:
    """The patterns are live: each flags the kind of line it is for."""
    samples = {
        "from openai._base_client import X": "a private module of a library",
        "err = openai._exceptions.APIError": "a private name of a library",
        "pool = client._client": "a private attribute of a library object",
        "await conn._execute(fn)": "a private attribute of a library object",
        "from bot.core import http_lite": "Hearth's old hand-written HTTP client",
        'headers["X-Stainless-Retry-Count"] = "0"': "SDK headers made by hand",
    }
    for line, what in samples.items():
        assert FORBIDDEN[what].search(line), line
    assert not any(p.search("self._conn.execute(sql)") for p in FORBIDDEN.values())
