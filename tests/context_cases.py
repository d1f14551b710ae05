"""Shared builders for the context rewriter tests: entries, terms and a family."""

from __future__ import annotations

from typing import Any

from knowledge.types import ContextInput, ContextResult, Entry, Fact, SearchHit, Turn

CA_KHO = Entry(
    1,
    "Cá kho tộ",
    "Cá lóc hoặc cá basa cắt khúc, ướp nước mắm, đường, tiêu, hành tím băm và một muỗng"
    " nước màu trong 30 phút. Xếp cá vào nồi đất, đổ nước dừa xấp mặt, kho lửa nhỏ trên"
    " bếp gas 40 phút đến khi nước sánh lại. Thêm vài lát ớt, rắc tiêu và hành lá.",
    ("cá", "món kho", "nam", "fish"),
    region="nam",
    aliases=("Braised fish in clay pot", "Caramelized fish"),
)
THIT_KHO = Entry(
    2,
    "Thịt kho trứng",
    "Thịt ba chỉ cắt miếng vuông, ướp nước mắm, đường, hành tỏi; trứng vịt luộc bóc vỏ."
    " Thắng nước màu, cho thịt vào đảo săn, đổ nước dừa, kho lửa nhỏ 1 giờ, cho trứng vào.",
    ("thịt", "Tết", "nam", "pork"),
    region="nam",
    aliases=("Braised pork and eggs",),
)
PHO = Entry(
    3,
    "Phở bò Hà Nội",
    "Hầm xương ống bò 6 tiếng, nướng gừng và hành tây trên bếp gas cho thơm, thêm quế, hồi,"
    " thảo quả. Nêm nước mắm, chần bánh phở, xếp thịt bò tái, chan nước dùng thật nóng.",
    ("phở", "bắc", "beef noodle soup"),
    region="bac",
    aliases=("Beef pho",),
)
BANH_BONG_LAN = Entry(
    4,
    "Bánh bông lan",
    "Đánh bông 4 quả trứng với 80 g đường, rây 80 g bột mì vào, trộn nhẹ, đổ khuôn rồi"
    " nướng bằng lò nướng ở 160 độ trong 30 phút.",
    ("bánh", "cake"),
    aliases=("Sponge cake",),
)
TERM_CA_KHO = Entry(
    50,
    "cá kho",
    "braised fish in a clay pot with caramel and fish sauce, cooked slowly on the stove",
    ("term",),
    aliases=("braised fish", "caramelized fish"),
)
TERM_PHO = Entry(
    51, "phở", "Vietnamese rice-noodle soup with beef or chicken broth", ("term",), aliases=("pho",)
)
TERM_MAM_NGU_QUA = Entry(
    52,
    "mâm ngũ quả",
    "the five-fruit tray placed on the ancestors' altar at Tết (Lunar New Year)",
    ("term", "Tết"),
    aliases=("five-fruit tray",),
)
TERM_TET = Entry(
    53,
    "Tết",
    "Lunar New Year, the biggest family holiday in Vietnam",
    ("term",),
    aliases=("Lunar New Year",),
)
GLOSSARY = [TERM_CA_KHO, TERM_PHO, TERM_MAM_NGU_QUA, TERM_TET]

NO_OVEN_KITCHEN = "bếp gas, nồi đất, nồi cơm điện, không có lò nướng"
FACT_CHILLI = Fact(1, "Bà nội không ăn ớt")
FACT_SCHOOL = Fact(2, "Con út học lớp 3 ở trường Lê Lợi")
FACT_LIKES_CA_KHO = Fact(3, "Bố thích cá kho ít ngọt")
FACT_CA_PHAO = Fact(4, "Bà thích cà pháo muối")
FACT_PEANUT = Fact(5, "Grandma is allergic to peanuts")


def hit(entry: Entry, score: float = 1.0, strong: bool = False) -> SearchHit:
    """A search hit as the knowledge base returns it."""
    return SearchHit(entry, score, snippet=entry.body[:60], strong=strong)


def family_input(question: str, **overrides: object) -> ContextInput:
    """A southern family without an oven, a grandmother who eats no chilli, some facts."""
    base = ContextInput(
        question=question,
        language="vi",
        profile={"kitchen": NO_OVEN_KITCHEN, "region": "nam", "name": "Nhà Lan"},
        facts=[FACT_CHILLI, FACT_SCHOOL, FACT_LIKES_CA_KHO, FACT_CA_PHAO],
        summary="Hôm qua cả nhà bàn chuyện đi chợ Bến Thành mua cá.",
        recent=[Turn("user", "Chào Hearth", "Lan"), Turn("assistant", "Chào chị Lan!")],
        hits=[hit(CA_KHO, 3.0, strong=True), hit(THIT_KHO, 1.2)],
        glossary=list(GLOSSARY),
    )
    for key, value in overrides.items():
        setattr(base, key, value)
    return base


def system(result: ContextResult) -> str:
    """The system message the model receives."""
    assert result.messages[0]["role"] == "system"
    return result.messages[0]["content"]


def record_of(result: ContextResult) -> dict[str, Any]:
    """The /why record, read as the JSON-shaped data it is (nested dicts and lists)."""
    return result.record


def closing(result: ContextResult) -> str:
    """The last paragraph of the system message: language and constraint reminder."""
    last = system(result).rsplit("\n\n", 1)[-1]
    assert last.startswith("BEFORE YOU ANSWER:")
    return last


def user(result: ContextResult) -> str:
    """The final user message: the family's question as written."""
    assert result.messages[-1]["role"] == "user"
    return result.messages[-1]["content"]


def section(result: ContextResult, header: str) -> str:
    """The text of one section of the system message ('' when absent)."""
    text = system(result)
    start = text.find("\n\n" + header)
    if start < 0:
        return ""
    start += 2
    end = text.find("\n\n", start)
    return text[start:] if end < 0 else text[start:end]


def everything(result: ContextResult) -> str:
    """All message text, for 'must not appear anywhere' checks."""
    return "\n".join(m["content"] for m in result.messages)
