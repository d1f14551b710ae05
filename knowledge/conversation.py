"""The conversation part of the prompt: the summary and the recent turns, kept stable.

They sit in the prompt's stable part (see prompt_plan), so they are filled against the
budget minus a reserve for this turn (TAIL_RESERVE), measured without the question and the
closing reminder: whatever this turn asks, they come out the same. Recent turns leave from
the oldest RECENT_STEP at a time, so most turns only append to the history shown and a
local server's cached prefix still holds. Bot commands ("/kb add …") are not conversation,
nor are the lines Hearth adds under an answer (its sources, its notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.guard import fenced, looks_like_injection
from knowledge.prompt_plan import HEADERS, Budget, Plan
from knowledge.tokens import estimate_tokens, trim_to_tokens
from knowledge.types import ContextInput, Turn

TAIL_RESERVE = 900  # kept for this turn's part (terms, facts, sources, question) …
TAIL_SHARE = 0.4  # … or this share of a smaller budget
RECENT_STEP = 8  # the oldest turns leave the prompt this many at a time (a stable prefix) …
RECENT_MAX = 16  # … so between RECENT_STEP and this many recent turns are shown
TRAILERS = ("Nguồn: [", "Sources: [", "(Trả lời từ kho kiến thức", "(Answered from the knowledge")


def is_command(turn: Turn) -> bool:
    """A bot command ("/family set …", "/kb add …"): not conversation."""
    return turn.role == "user" and turn.text.lstrip().startswith("/")


def said(turn: Turn) -> str:
    """What a turn said, without the lines Hearth adds under an answer (sources, notes)."""
    if turn.role != "assistant":
        return turn.text
    lines = [ln for ln in turn.text.split("\n") if not ln.strip().startswith(TRAILERS)]
    return "\n".join(lines).strip()


class Stable:
    """Fills the stable sections against the budget minus the turn's reserve, measured
    without the question and the closing, so they come out the same whatever is asked."""

    def __init__(self, plan: Plan, budget: Budget) -> None:
        self.plan = plan
        self.budget = budget
        self.room = budget.limit - min(TAIL_RESERVE, int(budget.limit * TAIL_SHARE))
        self.used = estimate_tokens(plan.stable_text())  # rules and constraints

    def try_add(self, name: str, block: str) -> bool:
        """Add a block if it fits both the stable room and the whole budget."""
        cost = self.plan.add_cost(name, block)
        if self.used + cost > self.room or not self.budget.try_add(name, block):
            return False
        self.used += cost
        return True

    def left(self, name: str) -> int:
        """Tokens a block of `name` may still cost."""
        header = 0 if self.plan.section(name) else 3 + estimate_tokens(HEADERS[name])
        return self.room - self.used - header - 1


def recent_start(stable: Stable, blocks: list[str]) -> int:
    """The first recent turn to show: the oldest leave RECENT_STEP at a time (counted from
    the oldest turn not yet summarised), so most turns only append to the history shown."""
    if not blocks:
        return 0
    header = 3 + estimate_tokens(HEADERS["recent"]) - 1
    costs = [estimate_tokens(b) + 1 for b in blocks]
    room = stable.room - stable.used - header
    total = sum(costs)
    for start in range(0, len(blocks), RECENT_STEP):
        if total <= room and len(blocks) - start <= RECENT_MAX:
            return start
        total -= sum(costs[start : start + RECENT_STEP])
    return len(blocks)


@dataclass(slots=True)
class Conversation:
    """What the conversation part added (for the record)."""

    summary_used: bool = False
    recent_used: int = 0
    commands: int = 0
    sections: dict[str, int] = field(default_factory=dict)


def add_conversation(
    plan: Plan, budget: Budget, inp: ContextInput, injections: list[dict[str, object]]
) -> Conversation:
    """Add the summary and the recent turns to the plan's stable part."""
    talk = Conversation()
    stable = Stable(plan, budget)
    before = plan.cost()
    if inp.summary and inp.summary.strip():
        talk.summary_used = _add_summary(stable, inp, injections)
    talk.sections["summary"] = plan.cost() - before
    before = plan.cost()
    talk.commands = sum(1 for t in inp.recent if is_command(t))
    talk.recent_used = _add_recent(stable, inp, injections)
    talk.sections["recent"] = plan.cost() - before
    return talk


def _add_summary(stable: Stable, inp: ContextInput, injections: list[dict[str, object]]) -> bool:
    summary = inp.summary or ""
    if inp.strict_privacy:
        stable.budget.dropped.append({"section": "summary", "why": "privacy strict"})
        return False
    flagged = looks_like_injection(summary)
    room = stable.left("summary") - estimate_tokens(fenced("summary", "", flagged))
    short = trim_to_tokens(" ".join(summary.split()), room) if room >= 20 else ""
    if not (short and stable.try_add("summary", fenced("summary", short, flagged))):
        stable.budget.dropped.append({"section": "summary", "why": "budget"})
        return False
    if flagged:
        injections.append({"where": "summary"})
    return True


def _add_recent(stable: Stable, inp: ContextInput, injections: list[dict[str, object]]) -> int:
    blocks: list[str] = []
    for turn in inp.recent:
        text = said(turn)
        if is_command(turn) or not text:
            continue
        who = (
            "Hearth"
            if turn.role == "assistant"
            else ("member" if inp.strict_privacy or not turn.author else turn.author)
        )
        flagged = looks_like_injection(turn.text)
        blocks.append(fenced(f"message from {who}", text, flagged))
        if flagged:
            injections.append({"where": "recent"})
    start = recent_start(stable, blocks)
    if start:
        stable.budget.dropped.append({"section": "recent", "why": "budget", "count": start})
    return sum(stable.try_add("recent", block) for block in blocks[start:])
