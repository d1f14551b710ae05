"""/why: what context an answer used — profile, facts, entries sent and left out, terms,
reminders, conversation, budget — in the reader's language, from the record the rewriter
stored with the answer (answers.context_json).
"""

from __future__ import annotations

from bot.core.i18n import tr


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
    mine = tr(lang, "của nhà mình; ", "your family's own; ") if entry.get("family") else ""
    if entry.get("strong"):
        return mine + tr(
            lang, "tiêu đề/tên gọi khớp câu hỏi", "title or alias matches the question"
        )
    words = ", ".join(entry.get("matched", []))
    cov = entry.get("coverage")
    share = f"{cov:.0%}" if isinstance(cov, int | float) else "?"
    return mine + tr(
        lang, "phủ {c} câu hỏi: {w}", "covers {c} of the question: {w}", c=share, w=words or "—"
    )


SKIP_REASONS = {
    "floor": ("ít liên quan (phủ {c} câu hỏi)", "barely related (covers {c} of the question)"),
    "relative": ("kém hơn mục tốt nhất (phủ {c})", "weaker than the best match (covers {c})"),
    "family_version": ("nhà mình đã có mục riêng cùng món", "your family has its own version"),
    "duplicate": ("trùng món với một nguồn đã chọn", "the same dish as a chosen source"),
    "limit": ("đã đủ nguồn", "enough sources already"),
    "small_talk": ("chuyện phiếm, không cần tra cứu", "small talk, nothing to look up"),
    "no_topic": ("câu hỏi chưa nêu món hay việc cụ thể", "the question names nothing specific"),
}


def _skip_line(skip: dict, lang: str) -> str:
    vi, en = SKIP_REASONS.get(str(skip.get("reason")), ("{c}", "{c}"))
    cov = skip.get("coverage")
    share = f"{cov:.0%}" if isinstance(cov, int | float) else "?"
    return tr(lang, "«{t}»: " + vi, "“{t}”: " + en, t=skip.get("title", "?"), c=share)


def _reminder_line(reminder: dict, lang: str) -> str:
    """One constraint the closing reminder named: what breaks it, and whose it is."""
    word, n, rule = reminder.get("word") or "", reminder.get("source"), reminder.get("constraint")
    if rule == "question":
        return tr(
            lang, "• Nhắc mô hình: bạn muốn bỏ «{w}»", "• Reminded the model: no “{w}”", w=word
        )
    if not word:
        return tr(
            lang,
            "• Nhắc mô hình: nguồn [{n}] cần lò nướng — «{c}»",
            "• Reminded the model: source [{n}] needs an oven — “{c}”",
            n=n,
            c=rule,
        )
    return tr(
        lang,
        "• Nhắc mô hình: nguồn [{n}] có «{w}» — «{c}»",
        "• Reminded the model: source [{n}] uses “{w}” — “{c}”",
        n=n,
        w=word,
        c=rule,
    )


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
    skipped = [s for s in record.get("entries_skipped", []) if s.get("reason")][:3]
    if skipped:
        lines.append(
            tr(lang, "• Không gửi: ", "• Left out: ")
            + "; ".join(_skip_line(s, lang) for s in skipped)
        )
    for reminder in record.get("reminders", []):
        lines.append(_reminder_line(reminder, lang))
    if record.get("summary_used"):
        lines.append(tr(lang, "• Tóm tắt hội thoại trước", "• Summary of earlier conversation"))
    recent = record.get("recent") or {}
    if recent.get("used"):
        lines.append(tr(lang, "• {n} tin nhắn gần đây", "• {n} recent messages", n=recent["used"]))
    if recent.get("commands"):
        lines.append(
            tr(
                lang,
                "• {n} lệnh bot không gửi kèm (không phải hội thoại)",
                "• {n} bot commands left out (not conversation)",
                n=recent["commands"],
            )
        )
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
