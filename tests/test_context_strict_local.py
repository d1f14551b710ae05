"""`/family set privacy strict` hides family data only from a model off this machine.

With no endpoint at all nothing leaves the machine: the family's own entries, its facts and
the allergy/chilli warnings stay in the knowledge-base answer. With a remote endpoint the
prompt carries shared knowledge only.
"""

from __future__ import annotations

from pathlib import Path

from bot.app import Hearth, build
from tests.conftest import make_settings, model_settings
from tests.servers.openai_server import OpenAIServer
from tests.usage_kit import ask, say

RECIPE = "Cá kho riềng nhà Lan"
BODY = "Cá trắm cắt khúc, ướp riềng giã nhỏ, nước mắm, thêm vài trái ớt, kho nồi đất 2 tiếng."


async def _strict_family(app: Hearth) -> None:
    await say(app, "/family set privacy strict")
    await say(app, f"/kb add {RECIPE} | {BODY}")
    await say(app, "/remember Bà nội không ăn ớt")


async def test_strict_without_any_endpoint_hides_nothing(tmp_path: Path) -> None:
    app = await build(make_settings(tmp_path))
    try:
        assert app.services.llm is None
        await _strict_family(app)
        answer = (await ask(app, "cá kho riềng làm sao")).text
        assert f"«{RECIPE}»" in answer
        assert "riềng giã nhỏ" in answer
        assert "Bà nội không ăn ớt" in answer  # the warning names who and why
        assert "🔒" not in answer  # nothing was held back, so nothing to say about it
    finally:
        await app.aclose()


async def test_strict_with_a_remote_endpoint_sends_no_family_entry(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    app = await build(model_settings(tmp_path, openai_server, LLM_LOCAL="0"))  # as if remote
    try:
        await _strict_family(app)
        answer = (await ask(app, "cá kho riềng làm sao")).text
        sent = openai_server.requests()[-1].body["messages"]
        prompt = "\n".join(m["content"] for m in sent)
        assert "riềng giã nhỏ" not in prompt
        assert "🔒" in answer
    finally:
        await app.aclose()
