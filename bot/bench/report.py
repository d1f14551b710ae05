"""The targets, judged on a full run, and the result as a short table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.bench.machine import one_line

# Fewer 429s than this share of the bot's requests is Telegram pushing back now and then;
# more is a storm (every answer waiting out flood control).
STORM_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Target:
    """One field of the result, what it must be, and how that is checked."""

    field: str
    target: str
    met: Callable[[Any, dict[str, Any]], bool] | None


def _storm_free(status_429: Any, result: dict[str, Any]) -> bool:
    requests = (result.get("sustained") or {}).get("bot_api_requests") or 0
    return bool(status_429 <= STORM_SHARE * requests)


TARGETS = (
    Target("sustained.lost", "0", lambda v, _: v == 0),
    Target("sustained.status_429", f"no storm (≤ {STORM_SHARE:.0%} of requests)", _storm_free),
    Target("sustained.added_p99_ms", "≤ 200 ms", lambda v, _: v <= 200),
    Target("sustained.cpu_pct", "≤ 50 % of one core", lambda v, _: v <= 50),
    Target("rss_mb", "≤ 150 MB", lambda v, _: v <= 150),
    Target("startup_s", "≤ 1.5 s", lambda v, _: v <= 1.5),
    Target("kb_search_ms_p99", "≤ 5 ms", lambda v, _: v <= 5),
    Target("calendar.due_check_ms_p99", "≤ 5 ms a tick", lambda v, _: v <= 5),
    Target("ratio_to_echo", "information", None),
)


def value_of(result: dict[str, Any], field: str) -> Any:
    """`sustained.lost` → result["sustained"]["lost"] (None where it is missing)."""
    value: Any = result
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def judge(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its verdict: True/False on a full run, None in quick mode, for
    information-only fields, and where nothing was measured."""
    verdicts = {}
    for t in TARGETS:
        value = value_of(result, t.field)
        met = None
        if not result["quick"] and t.met is not None and value is not None:
            met = t.met(value, result)
        verdicts[t.field] = {"target": t.target, "met": met}
    return verdicts


def _context(field: str, result: dict[str, Any]) -> str:
    """What a value is out of, or measured at (the words after the number)."""
    s = result.get("sustained") or {}
    cal = result.get("calendar") or {}
    details = result.get("details") or {}
    hearth_pace = (details.get("load") or {}).get("msgs_per_s")
    echo_pace = (details.get("echo") or {}).get("msgs_per_s")
    words = {
        "sustained.lost": f"of {s.get('messages', 0) + s.get('warmup_messages', 0):,} messages",
        "sustained.status_429": f"of {s.get('bot_api_requests', 0):,} requests",
        "sustained.added_p99_ms": f"ms (p50 {_num(s.get('added_p50_ms'))} ms)",
        "sustained.cpu_pct": "% of one core",
        "rss_mb": f"MB after {(details.get('load') or {}).get('messages', 0):,} messages",
        "startup_s": "s",
        "kb_search_ms_p99": f"ms at {result.get('kb_entries') or 0:,} entries",
        "calendar.due_check_ms_p99": f"ms at {cal.get('reminders', 0):,} reminders across"
        f" {cal.get('families', 0):,} families (ticks with something due:"
        f" {_num(cal.get('busy_due_check_ms_p99'))} ms)",
        "ratio_to_echo": f"(Hearth {_num(hearth_pace)} msg/s, echo bot {_num(echo_pace)} msg/s,"
        " limits off)",
    }
    return words.get(field, "")


def _num(value: Any) -> str:
    """1,800 · 0.42 · 85.3 · ? (not known)."""
    if value is None:
        return "?"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _shown(field: str, value: Any, result: dict[str, Any]) -> str:
    if value is None:
        return "not measured"
    return f"{_num(value)} {_context(field, result)}".strip()


def _ok(target: Target, met: bool | None, quick: bool, value: Any) -> str:
    if value is None:
        return "—"
    if target.met is None:
        return ""
    if quick:
        return "quick: not judged"
    return "yes" if met else "no"


def table(result: dict[str, Any]) -> str:
    """The machine, the scale, and one row per target: field | value | target | ok."""
    s = result.get("sustained") or {}
    lines = [
        f"hearth bench ({'quick' if result['quick'] else 'full'}) on {one_line(result['machine'])}",
        f"sustained: {_num(s.get('rate_msg_s'))} msg/s across {_num(s.get('chats'))} chats for"
        f" {_num(s.get('seconds'))} s; the model streams each answer in"
        f" {_num((result.get('model_ms') or {}).get('stream'))} ms",
        "",
        "| field | value | target | ok |",
        "|---|---|---|---|",
    ]
    verdicts = result["targets"]
    for t in TARGETS:
        value = value_of(result, t.field)
        ok = _ok(t, verdicts[t.field]["met"], result["quick"], value)
        lines.append(f"| `{t.field}` | {_shown(t.field, value, result)} | {t.target} | {ok} |")
    for name, reason in (result.get("null_reasons") or {}).items():
        lines.append(f"\n{name}: not measured — {reason}")
    if result["quick"]:
        lines.append(
            "\nquick scale: values are shown, not judged (`hearth bench` runs the full scale)"
        )
    return "\n".join(lines)
