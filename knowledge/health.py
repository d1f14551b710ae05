"""Safe home care and when to see a doctor, for a health question the knowledge base cannot
answer (no model, or the model unavailable): never a random entry instead.

The guidance ships as knowledge/packs/health_care.json, keyed by the lexicon's first
Vietnamese form of a health concept ("sốt", "tiểu đường" …) plus a general entry; it says
only what is safe at home and names the warning signs.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from bot.core.i18n import tr
from knowledge.lexicon import lexicon
from knowledge.question import Question


@lru_cache(maxsize=1)
def _guides() -> dict[str, dict[str, dict[str, str]]]:
    item = resources.files("knowledge.packs").joinpath("health_care.json")
    data: dict[str, dict[str, dict[str, str]]] = json.loads(item.read_text(encoding="utf-8"))
    return data


def _topic(question: Question) -> str:
    """The guide for the question's first health word that has one, else "general"."""
    guides = _guides()
    lex = lexicon()
    for unit in question.topic:
        if unit.kind == "health" and unit.concept is not None:
            concept = lex.concepts[unit.concept]
            if concept.vi and concept.vi[0] in guides:
                return concept.vi[0]
    return "general"


def home_care(question: Question, lang: str) -> str:
    """A kind answer for a health question with no entry: home care, then warning signs."""
    guide = _guides()[_topic(question)]["en" if lang == "en" else "vi"]
    return "\n".join(
        [
            tr(
                lang,
                "🩺 Kho kiến thức của nhà mình chưa có mục nào cho chuyện này, nên mình chỉ"
                " gợi ý cách chăm sóc an toàn tại nhà:",
                "🩺 Your family's knowledge base has nothing on this yet, so here is only"
                " safe care at home:",
            ),
            "• " + guide["care"],
            tr(lang, "• Khi nào cần đi khám: ", "• When to see a doctor: ") + guide["doctor"],
        ]
    )
