"""Context rewriting (first cut; the full rewriter replaces this module)."""

from __future__ import annotations

from knowledge.types import ContextInput, ContextResult, Entry


def format_sources(entries: list[Entry], lang: str) -> str:
    """A compact source line under an answer."""
    if not entries:
        return ""
    label = "Nguồn" if lang == "vi" else "Sources"
    return f"{label}: " + " · ".join(f"[{i}] {e.title}" for i, e in enumerate(entries, 1))


def rewrite(inp: ContextInput) -> ContextResult:
    """Messages for the model: profile, facts, sources, history, then the question."""
    lines = ["You are Hearth, a helpful assistant for a Vietnamese family."]
    lines += [f"Family {k}: {v}" for k, v in inp.profile.items()]
    lines += [f"Remembered: {f.text}" for f in inp.facts]
    for i, hit in enumerate(inp.hits, 1):
        lines.append(f"<source id={i} title={hit.entry.title!r}>\n{hit.entry.body}\n</source>")
    lang = "Vietnamese" if inp.language == "vi" else "English"
    lines.append(f"Answer in {lang}.")
    messages = [{"role": "system", "content": "\n".join(lines)}]
    messages += [{"role": t.role, "content": t.text} for t in inp.recent]
    messages.append({"role": "user", "content": inp.question})
    ids = [h.entry.id for h in inp.hits]
    return ContextResult(messages, inp.language, ids, {"entries": ids})


def kb_only_answer(inp: ContextInput, result: ContextResult) -> str:
    """Answer from the best entry when no model is configured."""
    if not inp.hits:
        if inp.language == "vi":
            return (
                "Mình chưa tìm thấy gì trong kho kiến thức cho câu hỏi này. "
                "Bạn có thể thêm bằng /kb add, hoặc cấu hình mô hình AI (LLM_BASE_URL)."
            )
        return (
            "I found nothing in the knowledge base for this yet. Add some with /kb add, "
            "or configure an AI model (LLM_BASE_URL)."
        )
    entry = inp.hits[0].entry
    return f"{entry.title}\n\n{entry.body}\n\n" + format_sources([entry], inp.language)
