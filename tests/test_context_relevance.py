"""What the model is sent: only entries that answer the question, the family's own first.

A development set (not the held-out evaluation): a family with its own versions of starter
dishes and customs, the starter pack as shared entries, and questions the way families ask
them — Vietnamese with and without marks, English, typos, small talk, health. Each question
names the entry that should be sent, or none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from statistics import mean

import pytest

from bot.store.db import Database
from bot.store.families import FamilyStore
from handlers.chat import SEARCH_LIMIT
from knowledge.context import rewrite
from knowledge.context_render import kb_only_answer
from knowledge.store import KnowledgeBase
from knowledge.types import ContextInput, ContextResult
from tests.context_cases import record_of
from tests.kb_support import dev_family_records

# (question, the entry to send or None, kind)
CASES: list[tuple[str, str | None, str]] = [
    ("Làm cá kho thế nào?", "Cá kho của mẹ", "vi"),
    ("Cách gói bánh chưng", "Bánh chưng ngày Tết", "vi"),
    ("thịt kho trứng nấu sao cho mềm", "Thịt kho hột vịt", "vi"),
    ("canh chua nấu với cá gì ngon", "Canh chua cá bông lau", "vi"),
    ("con bị ho uống gì cho đỡ", "Trà gừng mật ong trị ho của bà", "vi"),
    ("nấu cháo hành cho người ốm", "Cháo hành cho người ốm", "vi"),
    ("giỗ ông nội cần chuẩn bị mâm cúng gì", "Mâm cúng giỗ ông nội", "vi"),
    ("gà kho gừng làm sao", "Gà kho gừng", "vi"),
    ("bún riêu cua nấu thế nào", "Bún riêu cua nhà ngoại", "vi"),
    ("pha nước mắm chấm", "Nước mắm chấm của ba", "vi"),
    ("tủ lạnh có mùi hôi phải làm sao", "Cách khử mùi tủ lạnh bằng bã cà phê", "vi"),
    ("xông đất năm nay nhờ ai", "Xông đất nhà mình", "vi"),
    ("mang thai nên kiêng gì", "Kiêng cữ khi mang thai", "vi"),
    ("cách làm phở bò", "Phở bò Hà Nội", "vi"),
    ("bánh xèo đổ sao cho giòn", "Bánh xèo", "vi"),
    ("làm sữa chua bằng nồi cơm điện", "Sữa chua tự làm bằng nồi cơm điện", "vi"),
    ("trẻ bị sốt phải làm sao", "Chăm trẻ bị sốt tại nhà", "vi"),
    ("lam ca kho the nao", "Cá kho của mẹ", "plain"),
    ("goi banh chung", "Bánh chưng ngày Tết", "plain"),
    ("ga kho gung", "Gà kho gừng", "plain"),
    ("sinh to bo cho be", "Sinh tố bơ cho bé", "plain"),
    ("cach khu mui tu lanh", "Cách khử mùi tủ lạnh bằng bã cà phê", "plain"),
    ("nau bun rieu", "Bún riêu cua nhà ngoại", "plain"),
    ("canh chua ca", "Canh chua cá bông lau", "plain"),
    ("How do I make braised fish?", "Cá kho của mẹ", "en"),
    ("square sticky rice cake", "Bánh chưng ngày Tết", "en"),
    ("braised pork with eggs for Tet", "Thịt kho hột vịt", "en"),
    ("fridge smells bad", "Cách khử mùi tủ lạnh bằng bã cà phê", "en"),
    ("what to avoid during pregnancy", "Kiêng cữ khi mang thai", "en"),
    ("first footing after new year's eve", "Xông đất nhà mình", "en"),
    ("ginger tea for a cough", "Trà gừng mật ong trị ho của bà", "en"),
    ("avocado smoothie for the baby", "Sinh tố bơ cho bé", "en"),
    ("crab noodle soup", "Bún riêu cua nhà ngoại", "en"),
    ("ginger chicken", "Gà kho gừng", "en"),
    ("fish sauce dip", "Nước mắm chấm của ba", "en"),
    ("death anniversary offering for grandpa", "Mâm cúng giỗ ông nội", "en"),
    ("sour soup with fish", "Canh chua cá bông lau", "en"),
    ("beef pho recipe", "Phở bò Hà Nội", "en"),
    ("banh chumg", "Bánh chưng ngày Tết", "typo"),
    ("gà kho gừg", "Gà kho gừng", "typo"),
    ("bun rieu cuaa", "Bún riêu cua nhà ngoại", "typo"),
    ("thit kjo hot vit", "Thịt kho hột vịt", "typo"),
    ("hôm nay trời đẹp quá", None, "talk"),
    ("cảm ơn Hearth nhé", None, "talk"),
    ("haha vui quá", None, "talk"),
    ("good night everyone", None, "talk"),
    ("chúc cả nhà ngủ ngon", None, "talk"),
    ("ok", None, "talk"),
    ("Hearth ơi ăn cơm chưa?", None, "talk"),
    ("buồn ngủ quá", None, "talk"),
    ("good job Hearth!", None, "talk"),
    ("mưa to quá", None, "talk"),
    ("I miss you grandma", None, "talk"),
    ("chúc mừng sinh nhật bé Na", None, "talk"),
    ("nhà mình hôm nay đông vui ghê", None, "talk"),
    ("con đi học về rồi", None, "talk"),
    ("bé bị tiêu chảy phải làm sao", "Bù nước khi tiêu chảy", "health"),
    ("say xe thì làm gì", "Say tàu xe", "health"),
    ("bị bỏng nhẹ khi nấu ăn", "Sơ cứu bỏng nhẹ trong bếp", "health"),
    ("bà nội bị tiểu đường nên ăn gì", None, "health"),
    ("ba noi bi tieu duong nen an gi", None, "health"),
    ("ông bị huyết áp cao có nên ăn mặn không", None, "health"),
]


class DevKB:
    """The starter pack and the development family, asked the way the chat handler asks."""

    def __init__(self, kb: KnowledgeBase, family_id: int) -> None:
        self.kb = kb
        self.family_id = family_id

    async def context(self, question: str, **extra: object) -> tuple[ContextInput, ContextResult]:
        hits = await self.kb.search(question, self.family_id, limit=SEARCH_LIMIT)
        glossary = await self.kb.glossary_for(question, self.family_id)
        inp = ContextInput(question=question, language="vi", hits=hits, glossary=glossary)
        for key, value in extra.items():
            setattr(inp, key, value)
        return inp, rewrite(inp)


@pytest.fixture
async def dev(tmp_path: Path) -> AsyncIterator[DevKB]:
    db = await Database.open(tmp_path / "dev.db")
    kb = KnowledgeBase(db)
    await kb.load_starter_pack()
    fam = await FamilyStore(db).ensure("telegram", "-42", "group")
    report = await kb.import_records(dev_family_records(), fam.id)
    assert report.ok
    yield DevKB(kb, fam.id)
    await db.close()


def titles(result: ContextResult) -> list[str]:
    """The entries the model is sent, in order."""
    return [e.title for e in result.sources]


async def test_the_development_set_is_answered_with_the_right_entries_only(
    dev: DevKB, capsys: pytest.CaptureFixture[str]
) -> None:
    sent_counts: list[int] = []
    right = family_first = family_expected = 0
    expected_any = 0
    misses: list[str] = []
    for question, want, kind in CASES:
        _, result = await dev.context(question)
        sent = titles(result)
        sent_counts.append(len(sent))
        if want is None:
            if sent:
                misses.append(f"  {kind:6} {question!r}: want nothing, sent {sent}")
            continue
        expected_any += 1
        right += want in sent
        if want not in sent:
            misses.append(f"  {kind:6} {question!r}: want {want!r}, sent {sent}")
        if result.sources and any(
            e.title == want and e.family_id is not None for e in result.sources
        ):
            family_expected += 1
            family_first += result.sources[0].title == want
    recall = right / expected_any
    with capsys.disabled():
        print(
            f"\ncontext dev set: {len(CASES)} questions, recall {recall:.3f},"
            f" entries sent {mean(sent_counts):.2f} per question,"
            f" family first {family_first}/{family_expected}"
        )
        print("\n".join(misses))
    assert recall >= 0.95, "\n".join(misses)
    assert mean(sent_counts) <= 2.0
    assert family_first == family_expected
    assert all(n == 0 for n, (_, want, _) in zip(sent_counts, CASES, strict=True) if want is None)


async def test_only_the_family_recipe_is_sent_for_ca_kho(dev: DevKB) -> None:
    _, result = await dev.context("Làm cá kho thế nào?")
    assert titles(result) == ["Cá kho của mẹ"]
    skipped = {s["title"]: s["reason"] for s in record_of(result)["entries_skipped"]}
    assert skipped["Cá kho tộ"] == "family_version"
    assert "Canh chua cá lóc" not in titles(result)
    assert "Làm sạch nồi bị cháy đáy" not in titles(result)  # no "clay pot" noise


@pytest.mark.parametrize(
    ("question", "family", "shared"),
    [
        ("square sticky rice cake", "Bánh chưng ngày Tết", "Cách gói bánh chưng"),
        ("braised pork with eggs for Tet", "Thịt kho hột vịt", "Thịt kho trứng"),
    ],
)
async def test_the_family_version_wins_over_the_starter_near_duplicate(
    dev: DevKB, question: str, family: str, shared: str
) -> None:
    hits = await dev.kb.search(question, dev.family_id, limit=5)
    order = [h.entry.title for h in hits]
    assert order.index(family) < order.index(shared)  # search puts it first too
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    _, result = await dev.context(question)
    assert titles(result) == [family]


@pytest.mark.parametrize(
    "question", ["bà nội bị tiểu đường nên ăn gì", "ba noi bi tieu duong nen an gi"]
)
async def test_a_health_question_without_an_entry_gets_safe_care_not_a_random_entry(
    dev: DevKB, question: str
) -> None:
    inp, result = await dev.context(question)
    assert result.sources == []
    answer = kb_only_answer(inp, result)
    assert "Mừng thọ" not in answer and "Chè" not in answer
    assert "chưa có mục nào" in answer
    assert "Khi nào cần đi khám" in answer
    assert "bác sĩ" in answer


async def test_small_talk_gets_no_entry_and_a_friendly_reply(dev: DevKB) -> None:
    inp, result = await dev.context("hôm nay trời đẹp quá")
    assert result.sources == []
    assert record_of(result)["question"]["small_talk"] is True
    answer = kb_only_answer(inp, result)
    assert "Đám giỗ" not in answer and "/kb add" not in answer
    assert answer.startswith("😊")


async def test_an_english_health_question_without_an_entry_is_answered_in_english(
    dev: DevKB,
) -> None:
    inp, result = await dev.context("grandma has diabetes, what should she eat?", language="en")
    assert result.sources == []
    answer = kb_only_answer(inp, result)
    assert "When to see a doctor" in answer


async def test_a_long_entry_is_cut_to_the_passage_that_answers(dev: DevKB) -> None:
    steps = " ".join(f"Bước {i}: đảo đều nồi thịt trên lửa nhỏ thêm năm phút." for i in range(40))
    body = steps + " Muốn thịt mềm nhanh, cho vào nồi áp suất 25 phút rồi mới kho tiếp."
    await dev.kb.add("Thịt kho nhà Tư", body, family_id=dev.family_id, tags=["thịt"])
    _, result = await dev.context("thịt kho nhà Tư dùng nồi áp suất bao lâu")
    system = result.messages[0]["content"]
    assert "nồi áp suất 25 phút" in system
    assert "Bước 0:" not in system
    entry = record_of(result)["entries"][0]
    assert entry["trimmed"] is True


async def test_a_verbatim_entry_goes_whole_or_not_at_all(dev: DevKB) -> None:
    _, roomy = await dev.context("bài khấn giao thừa của nhà")
    prayer = next(e for e in dev_family_records() if e.get("verbatim"))
    assert str(prayer["body"]) in roomy.messages[0]["content"]
    _, tight = await dev.context("bài khấn giao thừa của nhà", budget_tokens=330)
    assert "Kính mời các ngài" not in tight.messages[0]["content"]
    assert "Nam mô A Di Đà Phật" not in tight.messages[0]["content"]
    dropped = record_of(tight)["budget"]["dropped"]
    assert {
        "section": "sources",
        "item": "Bài khấn giao thừa của nhà",
        "why": "verbatim: whole or not at all",
    } in dropped
