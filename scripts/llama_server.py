"""Run llama-cpp-python's OpenAI-compatible server with one more chat format, `gemma-system`.

llama-cpp-python's own `gemma` format drops system messages, and Hearth puts the family's
context (profile, facts, knowledge) in the system message. `gemma-system` folds the system
text into the first user turn, as Gemma's official chat template does. Run it with the
model venv's Python (`.venv-model/bin/python scripts/llama_server.py --model … `); every
option of `python -m llama_cpp.server` works.
"""

from __future__ import annotations

from typing import Any

from llama_cpp.llama_chat_format import ChatFormatterResponse, register_chat_format
from llama_cpp.server.__main__ import main


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


@register_chat_format("gemma-system")
def format_gemma_system(messages: list[dict[str, Any]], **_: Any) -> ChatFormatterResponse:
    """Gemma turns, with system messages kept (prepended to the first user turn)."""
    system = "\n\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
    turns = [
        (m.get("role"), _text(m.get("content"))) for m in messages if m.get("role") != "system"
    ]
    if system:
        if turns and turns[0][0] == "user":
            turns[0] = ("user", f"{system}\n\n{turns[0][1]}")
        else:
            turns.insert(0, ("user", system))
    prompt = "".join(
        f"<start_of_turn>{'model' if role == 'assistant' else 'user'}\n{text}<end_of_turn>\n"
        for role, text in turns
    )
    return ChatFormatterResponse(prompt=prompt + "<start_of_turn>model\n", stop="<end_of_turn>")


if __name__ == "__main__":
    main()
