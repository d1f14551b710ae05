"""The bench result as a table (with the targets beside it) or as one JSON document."""

from __future__ import annotations

from typing import Any

# field → (unit, target text, check) ; check(value) True when the target is met
TARGETS: dict[str, tuple[str, str, Any]] = {
    "overhead_ms_p50": ("ms", "", None),
    "overhead_ms_p99": ("ms", "≤ 5", lambda v: v <= 5),
    "kb_search_ms_p50": ("ms", "", None),
    "kb_search_ms_p99": ("ms", "≤ 5", lambda v: v <= 5),
    "msgs_per_s": ("msg/s", "", None),
    "echo_msgs_per_s": ("msg/s", "", None),
    "ratio_to_echo": ("", "≥ 0.8", lambda v: v >= 0.8),
    "concurrent_2s_p99_s": ("s", "≤ 2.5", lambda v: v <= 2.5),
    "rss_mb": ("MB", "≤ 150", lambda v: v <= 150),
    "startup_s": ("s", "≤ 1.5", lambda v: v <= 1.5),
    "kb_entries": ("", "", None),
    "families": ("", "", None),
    "messages": ("", "", None),
}
FIELDS = tuple(TARGETS)


def verdict(name: str, value: Any) -> str:
    """'ok', 'MISSED' or '' (no target, or not measured)."""
    check = TARGETS[name][2]
    if check is None or value is None:
        return ""
    return "ok" if check(value) else "MISSED"


def table(result: dict[str, Any]) -> str:
    """A Markdown table of every field, its target and whether it was met."""
    lines = ["| field | value | target | |", "|---|---|---|---|"]
    for name in FIELDS:
        unit, target, _ = TARGETS[name]
        value = result.get(name)
        shown = "null" if value is None else f"{value:,}" if isinstance(value, int) else f"{value}"
        if value is not None and unit:
            shown += f" {unit}"
        lines.append(f"| `{name}` | {shown} | {target} | {verdict(name, value)} |")
    reasons = result.get("null_reasons") or {}
    for name, reason in reasons.items():
        lines.append(f"\n{name} is null: {reason}")
    return "\n".join(lines)
