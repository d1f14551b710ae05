"""/family, /family set, /why and the first-run greeting, through the real pipeline."""

from __future__ import annotations

import json

from bot.app import Hearth
from handlers.family import first_run_greeting
from tests.support import RecordingOutbox, msg


async def _say(hearth: Hearth, text: str, **kw: object) -> RecordingOutbox:
    out = RecordingOutbox()
    await hearth.pipeline.handle(msg(text, **kw), out)  # type: ignore[arg-type]
    return out


async def _profile(hearth: Hearth, chat: str = "fam1") -> dict[str, str]:
    fam = await hearth.services.families.ensure("console", chat, "private")
    return await hearth.services.families.profile(fam.id)


async def _prompt(hearth: Hearth, chat: str) -> tuple[str, dict]:
    fam = await hearth.services.families.ensure("console", chat, "private")
    row = await hearth.services.db.fetchone(
        "SELECT prompt_json, context_json FROM answers WHERE family_id = ? ORDER BY id DESC",
        (fam.id,),
    )
    assert row is not None
    return row["prompt_json"], json.loads(row["context_json"])


async def test_new_family_sees_defaults_and_examples(hearth: Hearth) -> None:
    await _say(hearth, "/start")
    out = await _say(hearth, "/family")
    text = out.last.text
    assert text.startswith("🏡 Hồ sơ gia đình")
    assert "• Ngôn ngữ (language): tiếng Việt (mặc định)" in text
    assert "• Riêng tư (privacy): bình thường (normal) (mặc định)" in text
    assert "• Bếp (kitchen): chưa đặt — ví dụ: /family set kitchen bếp gas" in text


async def test_set_kitchen_and_show_it(hearth: Hearth) -> None:
    out = await _say(hearth, "/family set kitchen bếp gas, nồi đất, không có lò nướng")
    assert out.last.text == "Đã lưu — bếp: bếp gas, nồi đất, không có lò nướng"
    assert (await _profile(hearth))["kitchen"] == "bếp gas, nồi đất, không có lò nướng"
    shown = (await _say(hearth, "/giadinh")).last.text
    assert "• Bếp (kitchen): bếp gas, nồi đất, không có lò nướng" in shown


async def test_region_accepts_vietnamese_and_english_names(hearth: Hearth) -> None:
    for value, code in (("Bắc", "bac"), ("miền Trung", "trung"), ("south", "nam"), ("NAM", "nam")):
        await _say(hearth, f"/family set region {value}")
        assert (await _profile(hearth))["region"] == code
    shown = (await _say(hearth, "/family")).last.text
    assert "• Miền (region): miền Nam" in shown
    bad = await _say(hearth, "/family set region Nam Định")
    assert bad.last.text == "Miền là một trong: Bắc, Trung, Nam."
    assert (await _profile(hearth))["region"] == "nam"


async def test_vietnamese_key_names_and_clearing(hearth: Hearth) -> None:
    await _say(hearth, "/family set bếp bếp từ, nồi chiên không dầu")
    await _say(hearth, "/family set chế độ ăn ăn chay mùng Một")
    profile = await _profile(hearth)
    assert profile["kitchen"] == "bếp từ, nồi chiên không dầu"
    assert profile["diet"] == "ăn chay mùng Một"
    out = await _say(hearth, "/family set diet -")
    assert out.last.text == "Đã xóa ăn uống."
    assert "diet" not in await _profile(hearth)


async def test_unknown_key_gets_a_polite_list(hearth: Hearth) -> None:
    out = await _say(hearth, "/family set color đỏ")
    text = out.last.text
    assert text.startswith("Không có khóa «color». Các khóa dùng được:")
    for key in ("name", "region", "language", "kitchen", "diet", "note", "privacy"):
        assert f"/family set {key} " in text
    assert "color" not in await _profile(hearth)
    bare = await _say(hearth, "/family set")
    assert "Các khóa dùng được:" in bare.last.text


async def test_only_admins_set_but_everyone_sees(hearth: Hearth) -> None:
    member = {"chat": "g1", "user": "kid", "kind": "group"}
    denied = await _say(hearth, "/family set region Nam", **member)
    assert "chỉ quản trị viên" in denied.last.text
    fam = await hearth.services.families.ensure("console", "g1", "group")
    assert await hearth.services.families.profile(fam.id) == {}
    seen = await _say(hearth, "/family", **member)
    assert "Hồ sơ gia đình" in seen.last.text
    admin = await _say(
        hearth, "/family set region Nam", chat="g1", user="mom", kind="group", is_chat_admin=True
    )
    assert admin.last.text == "Đã lưu — miền: miền Nam"


async def test_name_names_the_family_and_privacy_is_explained(hearth: Hearth) -> None:
    await _say(hearth, "/family set name Nhà bà Lan")
    fam = await hearth.services.families.resolve("Nhà bà Lan")
    assert fam.chat_id == "fam1"
    bad = await _say(hearth, "/family set name a:b")
    assert "dấu hai chấm" in bad.last.text
    strict = await _say(hearth, "/family set privacy nghiêm")
    assert strict.last.text.startswith("Đã lưu — riêng tư: nghiêm (strict)\n")
    assert (await _profile(hearth))["privacy"] == "strict"


async def test_language_setting_switches_replies(hearth: Hearth) -> None:
    await _say(hearth, "/family set language English")
    assert (await _profile(hearth))["language"] == "en"
    out = await _say(hearth, "/family")
    assert out.last.text.startswith("🏡 Family profile")
    assert "• Language (language): English" in out.last.text


def test_first_run_greeting_invites_the_profile() -> None:
    vi = first_run_greeting("vi")
    en = first_run_greeting("en")
    for text in (vi, en):
        assert "/family set region" in text and "/family set kitchen" in text
        assert "/family" in text and "/help" in text
    assert "Làm cá kho thế nào?" in vi
    assert "How do I make cá kho?" in en


async def test_why_before_any_answer(hearth: Hearth) -> None:
    out = await _say(hearth, "/taisao")
    assert out.last.text == "Chưa có câu trả lời nào để giải thích. Hỏi mình một câu trước nhé!"
    # a bare command answers in the member's language, not the command name's
    vietnamese = await _say(hearth, "/why")
    assert vietnamese.last.text == out.last.text
    english = await _say(hearth, "/why", chat="other", user="tom", language_code="en")
    assert english.last.text == "There is no answer to explain yet. Ask me something first!"


async def test_profile_reaches_the_prompt_and_stays_in_its_family(hearth: Hearth) -> None:
    a = {"chat": "nha-a", "user": "lan"}
    await _say(hearth, "/family set kitchen bếp gas, nồi đất, không có lò nướng", **a)
    await _say(hearth, "/family set region Nam", **a)
    await _say(hearth, "/remember Bà nội không ăn ớt", **a)
    await _say(hearth, "Làm cá kho thế nào?", **a)
    prompt, record = await _prompt(hearth, "nha-a")
    messages = json.loads(prompt)
    system = messages[0]["content"]
    assert "Kitchen: ⟦bếp gas, nồi đất, không có lò nướng⟧" in system
    assert "There is NO oven" in system
    assert "Bà nội không ăn ớt" in system
    assert "BEFORE YOU ANSWER: reply in Vietnamese" in system
    assert messages[-1] == {"role": "user", "content": "Làm cá kho thế nào?"}
    assert record["language"]["answer"] == "vi"

    await _say(hearth, "Làm cá kho thế nào?", chat="nha-b", user="minh")
    other, _ = await _prompt(hearth, "nha-b")
    for private in ("không có lò nướng", "Bà nội không ăn ớt", "miền Nam", "NO oven"):
        assert private not in other

    why = (await _say(hearth, "/taisao", **a)).last.text
    assert "Câu hỏi #" in why and "«Làm cá kho thế nào?»" in why
    assert "bếp: bếp gas, nồi đất, không có lò nướng" in why
    assert "• Ghi nhớ: «Bà nội không ăn ớt» (ràng buộc, luôn giữ)" in why
    assert "• Ngân sách:" in why
    why_b = (await _say(hearth, "/why", chat="nha-b", user="minh")).last.text
    assert "Bà nội" not in why_b and "lò nướng" not in why_b


async def test_why_by_id_never_crosses_families(hearth: Hearth) -> None:
    await _say(hearth, "Làm cá kho thế nào?", chat="nha-a")
    fam = await hearth.services.families.ensure("console", "nha-a", "private")
    answer_id = await hearth.services.db.scalar(
        "SELECT max(id) FROM answers WHERE family_id = ?", (fam.id,)
    )
    own = await _say(hearth, f"/taisao {answer_id}", chat="nha-a")
    assert own.last.text.startswith(f"Câu hỏi #{answer_id}:")
    other = await _say(hearth, f"/taisao {answer_id}", chat="nha-b")
    assert other.last.text.startswith("Chưa có câu trả lời nào")
    bad = await _say(hearth, "/taisao abc", chat="nha-a")
    assert bad.last.text.startswith("Dùng: /why")


async def test_english_question_english_prompt_and_why(hearth: Hearth) -> None:
    await _say(hearth, "/family set kitchen gas stove, clay pot, no oven", chat="en1")
    await _say(hearth, "How do I make braised fish?", chat="en1")
    prompt, record = await _prompt(hearth, "en1")
    assert "BEFORE YOU ANSWER: reply in English" in prompt
    assert record["language"] == {"detected": "en", "answer": "en", "preferred": "en"}
    why = (await _say(hearth, "/why", chat="en1")).last.text
    assert "Language: answered in English" in why
