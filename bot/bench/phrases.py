"""Phrase pools for synthetic family chats and knowledge entries (Vietnamese and English)."""

from __future__ import annotations

import random
from typing import Any

SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Smith",
    "Brown",
)
GIVEN_NAMES = (
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hoa",
    "Hùng",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Minh",
    "Nam",
    "Ngọc",
    "Phúc",
    "Quân",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Anna",
    "Tom",
)
DISHES = (
    "canh chua cá lóc",
    "cá kho tộ",
    "phở bò",
    "bún chả",
    "gà luộc",
    "thịt kho trứng",
    "rau muống xào tỏi",
    "bánh xèo",
    "chả giò",
    "cơm tấm",
    "bún bò Huế",
    "cháo gà",
    "canh bí đỏ",
    "đậu hũ sốt cà chua",
    "xôi gấc",
    "chè đậu xanh",
    "bánh chưng",
    "gỏi cuốn",
    "mì xào giòn",
    "lẩu thái",
    "banana bread",
    "chicken soup",
    "fried rice",
    "pancakes",
    "tomato pasta",
    "boiled eggs",
    "miso soup",
    "beef stew",
)
TOPICS = (
    "ngày giỗ ông",
    "lịch tiêm cho bé",
    "tiền điện tháng này",
    "sinh nhật mẹ",
    "họp phụ huynh",
    "đi chợ cuối tuần",
    "dọn nhà đón Tết",
    "thuốc hạ sốt cho trẻ",
    "bảo dưỡng xe máy",
    "trồng rau ban công",
    "school pickup",
    "the water bill",
    "grandma's medicine",
    "the weekend trip",
    "homework schedule",
)
VI_QUESTIONS = (
    "Nấu {dish} thế nào cho ngon?",
    "Cho mình công thức {dish} với, nhà có bếp gas thôi.",
    "{dish} để tủ lạnh được mấy ngày?",
    "Làm {dish} cho 6 người cần bao nhiêu nguyên liệu?",
    "Bà nội ăn chay thì thay gì trong món {dish}?",
    "Nhắc lại giúp mình chuyện {topic} nhé?",
    "Hearth ơi, {topic} là hôm nào vậy?",
    "Có cách nào làm {dish} nhanh trong 20 phút không?",
    "Mẹ dặn gì về {topic} ấy nhỉ?",
    "Món {dish} ăn với gì thì hợp?",
)
EN_QUESTIONS = (
    "How do I make {dish} without an oven?",
    "What did we decide about {topic}?",
    "How long does {dish} keep in the fridge?",
    "Can you remind me about {topic}?",
    "What goes well with {dish}?",
)
VI_CHATTER = (
    "Tối nay nhà mình ăn {dish} nhé.",
    "Con về muộn, mọi người ăn trước đi ạ.",
    "Ai đi chợ nhớ mua thêm hành lá với rau thơm.",
    "Cuối tuần này về quê thăm ông bà không?",
    "Mẹ ơi con để quên chìa khóa ở nhà rồi 😅",
    "Hôm qua làm {dish} ngon quá, lần sau làm tiếp nha.",
    "Nhớ đóng tiền điện trước ngày 15 nhé.",
    "Bé Na được điểm 10 môn toán 🎉",
    "Dinner at 7, don't be late!",
    "I'll pick up the kids today.",
    "Ok ạ 👍",
    "Trời mưa to quá, mọi người đi đường cẩn thận.",
)
VI_ANSWERS = (
    "Món {dish}: sơ chế nguyên liệu, ướp gia vị 15 phút, nấu lửa vừa rồi nêm nếm lại cho "
    "vừa ăn. Nhà mình có bếp gas nên chỉnh lửa nhỏ khi sôi để nước trong.",
    "Theo ghi chú của gia đình, {dish} nên ăn trong 2 ngày và bảo quản trong hộp kín ở ngăn mát.",
    "Bạn có thể thay thịt bằng đậu hũ và nấm trong món {dish} khi bà ăn chay.",
    "For {dish}: prep everything first, cook on medium heat and taste before serving. "
    "It keeps two days in the fridge.",
)
FACTS = (
    "Bà nội không ăn cay.",
    "Bé Na dị ứng tôm.",
    "Bố thích ăn cá kho.",
    "Nhà dùng bếp gas, không có lò nướng.",
    "Giỗ ông vào mùng 10 tháng 3 âm lịch.",
    "Mẹ ăn chay ngày rằm.",
    "Anh Minh đi làm ca đêm thứ Ba và thứ Năm.",
    "Grandpa takes his medicine at 8 pm.",
    "Tiền điện đóng trước ngày 15 hàng tháng.",
    "Con mèo tên là Mướp.",
)
ENTRY_STEPS_VI = (
    "Rửa sạch nguyên liệu, để ráo nước.",
    "Phi thơm hành tỏi với một ít dầu ăn.",
    "Nêm nước mắm, đường, tiêu cho vừa ăn.",
    "Đun lửa nhỏ khoảng 20 phút cho thấm.",
    "Cho rau thơm vào sau cùng để giữ màu.",
    "Ăn nóng với cơm trắng.",
    "Có thể thay thịt bằng đậu hũ nếu ăn chay.",
    "Bảo quản trong hộp kín, ăn trong hai ngày.",
    "Dùng nồi đất thì món ngon hơn.",
    "Không cần lò nướng, dùng chảo chống dính là đủ.",
)
ENTRY_STEPS_EN = (
    "Wash and drain the vegetables.",
    "Fry garlic and shallots in a little oil.",
    "Season with fish sauce, sugar and pepper.",
    "Simmer on low heat for 20 minutes.",
    "Add herbs at the end to keep their colour.",
    "Serve hot with steamed rice.",
    "Swap the meat for tofu for a vegetarian version.",
    "Keeps two days in a sealed box.",
)
TAGS = (
    "món chính",
    "món chay",
    "canh",
    "ăn sáng",
    "tráng miệng",
    "mẹo vặt",
    "sức khỏe",
    "trẻ em",
    "lễ tết",
    "quick",
    "vegetarian",
    "soup",
)


def question(rng: random.Random) -> str:
    """A family question like the ones in the synthetic history (four in five in Vietnamese)."""
    pool = VI_QUESTIONS if rng.random() < 0.8 else EN_QUESTIONS
    return rng.choice(pool).format(dish=rng.choice(DISHES), topic=rng.choice(TOPICS))


def entry_record(rng: random.Random, n: int, family_id: int | None) -> dict[str, Any]:
    """One knowledge entry in the import format; `n` keeps titles unique and searchable."""
    dish = DISHES[n % len(DISHES)]
    english = rng.random() < 0.2
    steps = ENTRY_STEPS_EN if english else ENTRY_STEPS_VI
    body = " ".join(rng.sample(steps, k=rng.randint(3, 6)))
    topic = rng.choice(TOPICS)
    if english:
        title = f"{dish.capitalize()} recipe no. {n}"
        body = f"{body} Notes about {topic}."
    else:
        title = f"Cách nấu {dish} kiểu {rng.choice(('miền Bắc', 'miền Trung', 'miền Nam'))} số {n}"
        body = f"{body} Ghi chú về {topic}."
    return {
        "title": title,
        "body": body,
        "tags": rng.sample(TAGS, k=rng.randint(1, 3)),
        "language": "en" if english else "vi",
        "family_id": family_id,
        "author": rng.choice(GIVEN_NAMES),
    }
