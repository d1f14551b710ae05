"""Scoring the context evaluation: issue 20's metrics per kind of question, and its targets.

Pure: outcomes in (what the model was sent for each labelled question), numbers out.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.bench.context_fixture import Question
from bot.bench.stats import percentile
from knowledge.tokens import estimate_messages_tokens

# Issue 20's targets on held-out questions.
RECALL_MIN = 0.97
ENTRIES_MAX = 2.0
PROMPT_SHARE_MAX = 0.60  # median prompt against the fixture's recorded baseline
FAMILY_FIRST_MIN = 0.95
FAMILY_FIRST_EN_MIN = 0.90
PREFILL_RATIO_MAX = 5.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """One question and what the model was sent for it."""

    question: Question
    expected_id: int | None
    family_owned: bool  # the expected entry is the asking family's own
    entry_ids: tuple[int, ...]
    prompt: tuple[dict[str, Any], ...] | None  # None: Hearth built no prompt (e.g. a greeting)

    @property
    def tokens(self) -> int | None:
        """The prompt's size by Hearth's own estimate (knowledge/tokens.py)."""
        return None if self.prompt is None else estimate_messages_tokens(self.prompt)


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def _kind_summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The metrics of issue 20 over one group of questions."""
    expected = [o for o in outcomes if o.expected_id is not None]
    family_scope = [o for o in expected if o.family_owned]
    none_expected = [o for o in outcomes if o.question.expect is None]
    tokens = [float(t) for o in outcomes if (t := o.tokens) is not None]
    return {
        "questions": len(outcomes),
        "recall": _rate(sum(o.expected_id in o.entry_ids for o in expected), len(expected)),
        "with_expected": len(expected),
        "entries_mean": (
            round(statistics.fmean(len(o.entry_ids) for o in outcomes), 2) if outcomes else None
        ),
        "prompt_tokens_median": statistics.median(tokens) if tokens else None,
        "prompt_tokens_p90": percentile(tokens, 90) if tokens else None,
        "prompts": len(tokens),
        "family_first": _rate(
            sum(bool(o.entry_ids) and o.entry_ids[0] == o.expected_id for o in family_scope),
            len(family_scope),
        ),
        "family_scope": len(family_scope),
        "no_entry": _rate(sum(not o.entry_ids for o in none_expected), len(none_expected)),
        "expected_none": len(none_expected),
    }


def summarise(outcomes: Sequence[Outcome], kinds: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per kind (in `kinds` order) and over all questions."""
    result = {k: _kind_summary([o for o in outcomes if o.question.kind == k]) for k in kinds}
    result["all"] = _kind_summary(outcomes)
    return result


def check_targets(
    summary: dict[str, dict[str, Any]], baseline_median: float | None, prefill: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each of issue 20's targets: its line, the measured value and whether it is met."""
    every, english = summary["all"], summary.get("en", {})
    smalltalk = summary.get("smalltalk", {})
    median = every["prompt_tokens_median"]
    share = round(median / baseline_median, 3) if median is not None and baseline_median else None

    def line(metric: str, target: str, value: Any, ok: bool | None) -> dict[str, Any]:
        return {"metric": metric, "target": target, "value": value, "met": ok}

    def at_least(value: float | None, floor: float) -> bool | None:
        return None if value is None else value >= floor

    worst = prefill.get("worst_family_ratio")
    return [
        line("recall", f">= {RECALL_MIN}", every["recall"], at_least(every["recall"], RECALL_MIN)),
        line(
            "entries_mean",
            f"<= {ENTRIES_MAX}",
            every["entries_mean"],
            None if every["entries_mean"] is None else every["entries_mean"] <= ENTRIES_MAX,
        ),
        line(
            "prompt_tokens_median_share",
            f"<= {PROMPT_SHARE_MAX} of the baseline median ({baseline_median})",
            share,
            None if share is None else share <= PROMPT_SHARE_MAX,
        ),
        line(
            "family_first",
            f">= {FAMILY_FIRST_MIN}",
            every["family_first"],
            at_least(every["family_first"], FAMILY_FIRST_MIN),
        ),
        line(
            "family_first_en",
            f">= {FAMILY_FIRST_EN_MIN}",
            english.get("family_first"),
            at_least(english.get("family_first"), FAMILY_FIRST_EN_MIN),
        ),
        line(
            "smalltalk_no_entry",
            "= 1.0",
            smalltalk.get("no_entry"),
            at_least(smalltalk.get("no_entry"), 1.0),
        ),
        line(
            "prefill_ratio",
            f"<= {PREFILL_RATIO_MAX} (worst family's median)",
            worst,
            None if worst is None else worst <= PREFILL_RATIO_MAX,
        ),
    ]


def misses(outcomes: Sequence[Outcome], titles: dict[int, str]) -> list[dict[str, Any]]:
    """Questions whose right entry was not sent, or that got entries when none was right."""
    out = []
    for o in outcomes:
        missed = o.expected_id is not None and o.expected_id not in o.entry_ids
        spurious = o.question.expect is None and bool(o.entry_ids)
        if missed or spurious:
            out.append(
                {
                    "family": o.question.family,
                    "kind": o.question.kind,
                    "question": o.question.text,
                    "expected": o.question.expect,
                    "sent": [titles.get(i, str(i)) for i in o.entry_ids],
                }
            )
    return out


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 10 else f"{value:.0f}"
    return str(value)


def table(result: dict[str, Any]) -> str:
    """The per-kind table and the target lines, for a terminal or a README."""
    head = "| kind | questions | recall | entries/q | tokens p50 | tokens p90 | family first | no entry |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for kind, m in result["kinds"].items():
        cells = [
            kind,
            m["questions"],
            m["recall"],
            m["entries_mean"],
            m["prompt_tokens_median"],
            m["prompt_tokens_p90"],
            m["family_first"],
            m["no_entry"],
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    for t in result["targets"]:
        verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        lines.append(f"{t['metric']}: {_cell(t['value'])} (target {t['target']}): {verdict}")
    prefill = result["prefill"]
    if prefill.get("reason"):
        lines.append(f"prefill: {prefill['reason']}")
    for f in prefill.get("families", ()):
        lines.append(
            f"prefill {f['family']}: Hearth's prompt {f['hearth_ms_median']} ms, bare question"
            f" {f['bare_ms_median']} ms, ratio {f['ratio_median']}x (median of"
            f" {f['questions']} consecutive questions, prompt {f['prompt_tokens_median']} tokens)"
        )
    return "\n".join(lines)
