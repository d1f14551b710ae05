"""What people see of the context: the KB-only answer, its warnings and the sources line
(/why is knowledge.why_render).

Pure text functions over ContextInput / ContextResult, in the question's language; the
entry text itself stays as written (usually Vietnamese).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core.i18n import tr
from knowledge.calendar_context import calendar_answer
from knowledge.constraints import Constraint, family_constraints, question_constraints, used_word
from knowledge.guard import has_no_oven
from knowledge.health import home_care
from knowledge.question import analyse
from knowledge.relevance import fold
from knowledge.types import ContextInput, ContextResult, Entry

QUOTE_WORDS = 180


def format_sources(entries: Sequence[Entry], lang: str) -> str:
    """One compact line naming the entries an answer used: 'Nguồn: [1] Cá kho tộ · [2] …'."""
    if not entries:
        return ""
    label = tr(lang, "Nguồn", "Sources")
    items = []
    for n, entry in enumerate(entries, start=1):
        title = entry.title if len(entry.title) <= 48 else entry.title[:47].rstrip() + "…"
        items.append(f"[{n}] {title}")
    return f"{label}: " + " · ".join(items)


def _quote(entry: Entry) -> str:
    """The entry body, cut at a sentence near QUOTE_WORDS words."""
    body = entry.body.strip()
    parts = body.split()
    if len(parts) <= QUOTE_WORDS:
        return body
    cut = " ".join(parts[:QUOTE_WORDS])
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("."))
    return (cut[: end + 1] if end > len(cut) // 2 else cut) + " …"


OVEN_NEGATORS = frozenset(
    {"khong", "chang", "ko", "thay", "no", "without", "instead", "not", "dont"}
)


def needs_oven(text: str) -> bool:
    """The text uses an oven ('nướng bằng lò nướng'), not merely 'không cần lò nướng'."""
    folded = [fold(w) for w in re.findall(r"[^\W_]+", text.lower())]
    for i, word in enumerate(folded):
        hit = word == "oven" or (word == "lo" and folded[i + 1 : i + 2] == ["nuong"])
        if hit and not OVEN_NEGATORS.intersection(folded[max(0, i - 3) : i]):
            return True
    return False


ADVICE = {
    "allergy": (
        "hãy bỏ hẳn ra và dùng dao thớt riêng",
        "leave it out entirely and use separate utensils",
    ),
    "avoid": ("hãy bỏ ra hoặc để riêng phần{of}", "leave it out or serve it on the side{of}"),
    "vegetarian": (
        "thay bằng đậu hũ, nấm và nước mắm chay{of}",
        "swap in tofu, mushrooms and vegetarian fish sauce{of}",
    ),
    "diabetes": (
        "giảm đường hoặc dùng chất tạo ngọt bác sĩ cho phép, ăn lượng nhỏ",
        "cut the sugar or use a sweetener the doctor allows, and keep portions small",
    ),
    "pressure": ("nêm nhạt, bớt muối và nước mắm", "season lightly, with less salt and fish sauce"),
    "gout": (
        "ăn ít, nhất là nội tạng, hải sản và bia rượu",
        "keep it small, easy on offal, seafood and alcohol",
    ),
    "pregnancy": (
        "nấu chín kỹ, bỏ phần sống, tái hoặc có rượu",
        "cook it through and leave out anything raw, rare or with alcohol",
    ),
}


def _advice(constraint: Constraint, lang: str) -> str:
    vi, en = ADVICE.get(constraint.kind, ADVICE["avoid"])
    who = constraint.who
    if lang == "en":
        return en.format(of=f" for {who}" if who else "")
    return vi.format(of=f" của {who[:1].lower() + who[1:]}" if who else "")


def _stated(constraint: Constraint, lang: str) -> str:
    """The constraint as the family stated it: who and why, in their words."""
    text = constraint.text.rstrip(" .")
    if constraint.origin == "profile":
        return tr(lang, "Nhà mình dặn: «{t}»", "Your family's profile says “{t}”", t=text)
    return text


def constraint_warnings(inp: ContextInput, entry: Entry, lang: str) -> list[str]:
    """Where the entry goes against the family's constraints or the question's own
    ("không ớt"): who, why, the word that breaks it and what to do instead."""
    text = f"{entry.title}. {entry.body}"
    notes: list[str] = []
    kitchen = inp.profile.get("kitchen", "")
    if has_no_oven(kitchen) and needs_oven(text):
        notes.append(
            tr(
                lang,
                "Mục này có nhắc tới lò nướng, mà bếp nhà mình không có lò nướng: hãy làm trên bếp"
                " gas — kho, rim trong nồi đất hoặc áp chảo — hoặc dùng nồi chiên không dầu nếu có.",
                "This entry mentions an oven, and your kitchen has none: use the stove instead —"
                " braise in a clay pot (nồi đất) or pan-fry — or an air fryer if you have one.",
            )
        )
    facts = [f.text for f in inp.facts]
    for constraint in (
        *family_constraints(inp.profile, facts),
        *question_constraints(inp.question),
    ):
        word = used_word(constraint, text)
        if word is not None:
            notes.append(_warning(constraint, word, lang))
    return notes


def _warning(constraint: Constraint, word: str, lang: str) -> str:
    """Who, why, the word that breaks it and what to do instead."""
    if constraint.origin == "question":
        return tr(
            lang,
            "Bạn muốn không có «{q}», mà mục này có «{w}»: khi nấu hãy bỏ ra.",
            "You asked for no “{q}”, and this entry uses “{w}”: leave it out.",
            q=constraint.why,
            w=word,
        )
    return tr(
        lang,
        "{s}, mà mục này có «{w}»: {a}.",
        "{s}, and this entry uses “{w}”: {a}.",
        s=_stated(constraint, lang),
        w=word,
        a=_advice(constraint, lang),
    )


def _why_chosen(record: dict, entry: Entry, lang: str) -> str:
    info: dict[str, Any] = next(
        (e for e in record.get("entries", []) if e.get("id") == entry.id), {}
    )
    if info.get("strong"):
        return tr(
            lang,
            "tiêu đề hoặc tên gọi khớp với câu hỏi",
            "its title or another name matches your question",
        )
    words = ", ".join(info.get("matched", [])[:5])
    return tr(lang, "nó nói về: {w}", "it is about: {w}", w=words or "—")


NO_AI = (
    "(Trả lời từ kho kiến thức, chưa dùng mô hình AI.)",
    "(Answered from the knowledge base; no AI model was used.)",
)


def _nothing_found(inp: ContextInput, lang: str, terms: list[dict[str, Any]]) -> str:
    """No entry answers the question: small talk gets a friendly word, a health question
    safe home care and when to see a doctor, anything else what to do next."""
    question = analyse(inp.question)
    if question.small_talk and not terms:
        return tr(
            lang,
            "😊 Mình nghe đây! Cần gì về bếp núc, phong tục hay việc nhà thì cứ hỏi mình nhé.",
            "😊 I'm here! Ask me about cooking, customs or the household whenever you like.",
        )
    if question.health:
        return home_care(question, lang) + "\n" + tr(lang, *NO_AI)
    lines = [
        tr(
            lang,
            "Mình chưa tìm thấy gì trong kho kiến thức của nhà mình cho câu này.",
            "I found nothing in your family's knowledge base for this question.",
        )
    ]
    for term in terms:
        lines.append(f"• {term['term']}: {term['expansion']}")
    lines.append(
        tr(
            lang,
            "Bạn có thể thêm kiến thức bằng /kb add TIÊU ĐỀ | NỘI DUNG, hoặc nhờ người cài đặt"
            " cấu hình một mô hình AI (LLM_BASE_URL, LLM_MODEL) để mình trả lời rộng hơn.",
            "You can add knowledge with /kb add TITLE | BODY, or ask whoever runs Hearth to"
            " configure an AI model (LLM_BASE_URL, LLM_MODEL) so I can answer more.",
        )
    )
    return "\n".join(lines)


def kb_only_answer(inp: ContextInput, result: ContextResult) -> str:
    """The answer when no model is configured: the chosen entry, why, and any conflicts;
    never a random entry when none answers the question."""
    lang = result.language
    dated = calendar_answer(inp.question, inp.today, lang)
    if dated is not None:
        return dated + "\n" + tr(lang, *NO_AI)
    record: dict[str, Any] = result.record
    raw_terms = record.get("terms")
    terms: list[dict[str, Any]] = raw_terms if isinstance(raw_terms, list) else []
    if not result.sources:
        return _nothing_found(inp, lang, terms)
    entry = result.sources[0]
    intro = tr(
        lang,
        "📖 Từ kho kiến thức: «{t}» — mình chọn mục này vì {why}.",
        "📖 From the knowledge base: “{t}” — chosen because {why}. (The entry is in Vietnamese.)"
        if entry.language == "vi"
        else "📖 From the knowledge base: “{t}” — chosen because {why}.",
        t=entry.title,
        why=_why_chosen(record, entry, lang),
    )
    parts = [intro, "", _quote(entry)]
    notes = constraint_warnings(inp, entry, lang)
    if notes:
        parts.append("")
        parts.extend("⚠️ " + n for n in notes)
    parts.append("")
    parts.append(format_sources(result.sources, lang))
    parts.append(tr(lang, *NO_AI))
    return "\n".join(parts)
