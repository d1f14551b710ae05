"""What people see of the context: the KB-only answer, the sources line and /why.

Pure text functions over ContextInput / ContextResult, in the question's language; the
entry text itself stays as written (usually Vietnamese).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from bot.core.i18n import tr
from knowledge.guard import has_no_oven
from knowledge.relevance import VI_STOP, Word, content_words, fold, same_word
from knowledge.types import ContextInput, ContextResult, Entry

QUOTE_WORDS = 180
SPICY = ("ớt", "sa tế", "cay", "chilli", "chili", "spicy")
SEAFOOD = ("tôm", "cua", "mực", "nghêu", "sò", "ốc", "hải sản", "seafood")
PEANUT = ("đậu phộng", "lạc", "peanut")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "cay": SPICY,
    "ot": SPICY,
    "chilli": SPICY,
    "chili": SPICY,
    "spicy": SPICY,
    "hai san": SEAFOOD,
    "seafood": SEAFOOD,
    "dau phong": PEANUT,
    "lac": PEANUT,
    "peanut": PEANUT,
    "peanuts": PEANUT,
    "pork": ("thịt heo", "thịt lợn", "heo", "lợn", "pork"),
    "thit heo": ("thịt heo", "heo"),
    "thit lon": ("thịt lợn", "lợn"),
    "beef": ("bò", "beef"),
    "sugar": ("đường", "sugar"),
}
MEAT = ("thịt", "cá", "tôm", "cua", "mực", "heo", "lợn", "bò", "gà", "vịt", "mắm tôm")
_AVOID_RE = re.compile(
    r"\b(?:khong an duoc|khong the an|khong an|kieng an|kieng|di ung voi|di ung|khong uong|"
    r"doesn't eat|does not eat|don't eat|dont eat|can't eat|cannot eat|allergic to|"
    r"avoids|avoid|no)\s+([a-z ]{2,30})"
)


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


def _mentions(entry_text: str, needles: Sequence[str]) -> str | None:
    """The first needle found as whole words in the entry; marked needles match exactly."""
    entry_words = content_words(entry_text)
    folded = " " + " ".join(w.folded for w in entry_words) + " "
    for needle in needles:
        if " " in needle.strip():
            if f" {fold(needle)} " in folded:
                return needle
        elif any(same_word(Word(needle, fold(needle)), w) for w in entry_words):
            return needle
    return None


def _avoided(source: str) -> list[str]:
    """What a constraint line says to avoid ('không ăn ớt' → ['ớt']), as written."""
    text = unicodedata.normalize("NFC", source).lower()
    folded = fold(text)
    same_length = len(folded) == len(text)
    found = []
    for match in _AVOID_RE.finditer(folded):
        raw = text[match.start(1) : match.end(1)] if same_length else match.group(1)
        kept = [w for w in raw.split() if fold(w) not in VI_STOP][:2]
        if kept:
            found.append(" ".join(kept))
    return found


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


def _constraint_texts(inp: ContextInput) -> list[str]:
    texts = [inp.profile.get(k, "") for k in ("kitchen", "diet", "note")]
    return [t for t in texts + [f.text for f in inp.facts] if t.strip()]


def conflicts(inp: ContextInput, entry: Entry, lang: str) -> list[str]:
    """Notes where the entry goes against the family's constraints (oven, foods avoided)."""
    text = f"{entry.title}. {entry.body}"
    notes: list[str] = []
    sources = _constraint_texts(inp)
    if any(has_no_oven(t) for t in sources) and needs_oven(text):
        notes.append(
            tr(
                lang,
                "Mục này có nhắc tới lò nướng, mà bếp nhà mình không có lò nướng: hãy làm trên bếp"
                " gas — kho, rim trong nồi đất hoặc áp chảo — hoặc dùng nồi chiên không dầu nếu có.",
                "This entry mentions an oven, and your kitchen has none: use the stove instead —"
                " braise in a clay pot (nồi đất) or pan-fry — or an air fryer if you have one.",
            )
        )
    diet = fold(inp.profile.get("diet", ""))
    if any(k in diet for k in ("chay", "vegetarian", "vegan")):
        found = _mentions(text, MEAT)
        if found:
            notes.append(
                tr(
                    lang,
                    "Nhà mình ăn chay mà mục này có «{w}»: thay bằng đậu hũ, nấm và nước mắm chay.",
                    "Your family eats vegetarian and this entry uses “{w}”: swap in tofu, mushrooms"
                    " and vegetarian fish sauce.",
                    w=found,
                )
            )
    for source in sources:
        for target in _avoided(source):
            first = target.split()[0]
            needles = SYNONYMS.get(fold(target)) or SYNONYMS.get(fold(first)) or (target, first)
            found = _mentions(text, [n for n in needles if len(fold(n)) >= 2])
            if found and not any(f"«{found}»" in n or f"“{found}”" in n for n in notes):
                notes.append(
                    tr(
                        lang,
                        "Mục này có «{w}», mà trong nhà: «{s}». Hãy bỏ ra hoặc để riêng phần đó.",
                        "This entry uses “{w}”, but your family noted: “{s}”. Leave it out or"
                        " serve it on the side.",
                        w=found,
                        s=source.strip(),
                    )
                )
    return notes


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
    return tr(lang, "trùng các từ: {w}", "it shares the words: {w}", w=words or "—")


def kb_only_answer(inp: ContextInput, result: ContextResult) -> str:
    """The answer when no model is configured: the chosen entry, why, and any conflicts."""
    lang = result.language
    record: dict[str, Any] = result.record
    raw_terms = record.get("terms")
    terms: list[dict[str, Any]] = raw_terms if isinstance(raw_terms, list) else []
    if not result.sources:
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
    notes = conflicts(inp, entry, lang)
    if notes:
        parts.append("")
        parts.extend("⚠️ " + n for n in notes)
    parts.append("")
    parts.append(format_sources(result.sources, lang))
    parts.append(
        tr(
            lang,
            "(Trả lời từ kho kiến thức, chưa dùng mô hình AI.)",
            "(Answered from the knowledge base; no AI model was used.)",
        )
    )
    return "\n".join(parts)


def _key(key: str, lang: str) -> str:
    return KEY_NAMES.get(key, key) if lang == "vi" else key


def _section(key: str, lang: str) -> str:
    return SECTION_NAMES.get(key, key) if lang == "vi" else key.replace("_", " ")


KEY_NAMES = {
    "kitchen": "bếp",
    "region": "miền",
    "diet": "chế độ ăn",
    "note": "ghi chú",
    "name": "tên",
    "privacy": "riêng tư",
    "language": "ngôn ngữ",
}
SECTION_NAMES = {
    "rules_and_question": "quy tắc + câu hỏi",
    "constraints": "ràng buộc",
    "terms": "thuật ngữ",
    "sources": "nguồn",
    "facts": "ghi nhớ",
    "summary": "tóm tắt",
    "recent": "tin gần đây",
    "question": "câu hỏi",
}
WHY_VI = {
    "constraint: always kept": "ràng buộc, luôn giữ",
    "not relevant": "không liên quan",
    "budget": "hết chỗ",
    "privacy strict": "chế độ riêng tư nghiêm",
}


def _why_text(why: str, lang: str) -> str:
    if lang != "vi":
        return why
    if why.startswith("shares words: "):
        return "trùng từ: " + why.removeprefix("shares words: ")
    return WHY_VI.get(why, why)


def _entry_why(entry: dict, lang: str) -> str:
    if entry.get("strong"):
        return tr(lang, "tiêu đề/tên gọi khớp câu hỏi", "title or alias matches the question")
    words = ", ".join(entry.get("matched", []))
    return tr(lang, "trùng từ: {w}", "shared words: {w}", w=words or "—")


def render_why(record: dict, lang: str) -> str:
    """/why: the context the last answer used — profile, facts, entries, terms, budget."""
    if not record:
        return tr(
            lang,
            "Câu trả lời gần nhất không dùng thêm ngữ cảnh nào.",
            "The last answer used no extra context.",
        )
    lines = [tr(lang, "🔎 Câu trả lời gần nhất đã dùng:", "🔎 What the last answer used:")]
    language = record.get("language") or {}
    names = {
        "vi": tr(lang, "tiếng Việt", "Vietnamese"),
        "en": tr(lang, "tiếng Anh", "English"),
        "mixed": tr(lang, "lẫn Việt–Anh", "mixed Vietnamese/English"),
    }
    lines.append(
        tr(
            lang,
            "• Ngôn ngữ: trả lời bằng {a} (câu hỏi: {d})",
            "• Language: answered in {a} (question: {d})",
            a=names.get(language.get("answer", ""), "?"),
            d=names.get(language.get("detected", ""), "?"),
        )
    )
    used = [p for p in record.get("profile", []) if p.get("used") and p.get("key") != "language"]
    if used:
        lines.append(
            tr(lang, "• Hồ sơ gia đình: ", "• Family profile: ")
            + "; ".join(f"{_key(p['key'], lang)}: {p['value']}" for p in used)
        )
    facts = record.get("facts") or {}
    for fact in facts.get("used", []):
        lines.append(
            tr(
                lang,
                "• Ghi nhớ: «{t}» ({w})",
                "• Fact: “{t}” ({w})",
                t=fact["text"],
                w=_why_text(fact["why"], lang),
            )
        )
    left = facts.get("left_out", [])
    if left:
        lines.append(
            tr(
                lang,
                "• Ghi nhớ không dùng: {n} ({w})",
                "• Facts left out: {n} ({w})",
                n=len(left),
                w=", ".join(sorted({_why_text(f["why"], lang) for f in left})),
            )
        )
    for term in record.get("terms", []):
        lines.append(
            tr(
                lang,
                "• Thuật ngữ: {t} → {e}",
                "• Term: {t} → {e}",
                t=term["term"],
                e=term["expansion"],
            )
        )
    for entry in record.get("entries", []):
        lines.append(
            tr(
                lang,
                "• Nguồn [{n}] {t} — {w}",
                "• Source [{n}] {t} — {w}",
                n=entry["n"],
                t=entry["title"],
                w=_entry_why(entry, lang),
            )
        )
    if not record.get("entries"):
        lines.append(
            tr(lang, "• Không có mục kiến thức nào phù hợp.", "• No knowledge entry matched.")
        )
    if record.get("summary_used"):
        lines.append(tr(lang, "• Tóm tắt hội thoại trước", "• Summary of earlier conversation"))
    recent = record.get("recent") or {}
    if recent.get("used"):
        lines.append(tr(lang, "• {n} tin nhắn gần đây", "• {n} recent messages", n=recent["used"]))
    for flag in record.get("injection_flags", []):
        lines.append(
            tr(
                lang,
                "• ⚠️ Có đoạn giống mệnh lệnh trong {w} — đã coi là dữ liệu",
                "• ⚠️ Instruction-like text in {w} — treated as data",
                w=flag["where"],
            )
        )
    budget = record.get("budget") or {}
    if budget:
        sections = budget.get("sections", {})
        detail = ", ".join(f"{_section(k, lang)} {v}" for k, v in sections.items() if v)
        lines.append(
            tr(
                lang,
                "• Ngân sách: {u}/{l} token ({d})",
                "• Budget: {u}/{l} tokens ({d})",
                u=budget.get("used", 0),
                l=budget.get("limit", 0),
                d=detail,
            )
        )
        dropped = budget.get("dropped", [])
        if dropped:
            what = ", ".join(
                _section(str(d.get("section")), lang) + (f" «{d['item']}»" if d.get("item") else "")
                for d in dropped
            )
            lines.append(tr(lang, "• Bỏ bớt vì hết chỗ: {w}", "• Dropped for space: {w}", w=what))
    return "\n".join(lines)
