"""The /nhac and /gio forms of the issue, in Vietnamese and English, and their refusals."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.calendar.parse import parse_form
from bot.calendar.rules import Rule
from bot.core.errors import UsageError

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # a Sunday
D, T = dt.date, dt.time


@pytest.mark.parametrize(
    ("form", "gio", "rule", "at", "title", "leads"),
    [
        ("Ông nội 10/3 âm", True, Rule("yearly_lunar", month=3, day=10), T(8), "Ông nội", (7, 1)),
        ("Ong noi 10/3", True, Rule("yearly_lunar", month=3, day=10), T(8), "Ong noi", (7, 1)),
        ("Bà ngoại 5/6 nhuận âm trước 3,1 ngày", True,
         Rule("yearly_lunar", month=6, day=5, leap=True), T(8), "Bà ngoại", (3, 1)),
        ("Grandpa 10/3 lunar 3 and 1 days before", True,
         Rule("yearly_lunar", month=3, day=10), T(8), "Grandpa", (3, 1)),
        ("Cụ cố 2/9 dương", True, Rule("yearly", month=9, day=2), T(8), "Cụ cố", (7, 1)),
        ("8:00 hằng ngày uống thuốc huyết áp", False, Rule("daily"), T(8), "uống thuốc huyết áp", (0,)),
        ("tomorrow 19:00 call grandma", False, Rule("once", date=D(2026, 3, 2)), T(19), "call grandma", (0,)),
        ("mai 7 giờ tối gọi bà nhé", False, Rule("once", date=D(2026, 3, 2)), T(19), "gọi bà", (0,)),
        ("15/8 âm hằng năm Trung thu", False, Rule("yearly_lunar", month=8, day=15), T(8), "Trung thu", (0,)),
        ("rằm và mùng một hằng tháng thắp hương", False,
         Rule("monthly_lunar", days=(1, 15)), T(8), "thắp hương", (0,)),
        ("9:00 ngày 15 âm hằng tháng đi chùa", False, Rule("monthly_lunar", days=(15,)), T(9), "đi chùa", (0,)),
        ("ngày 5 hằng tháng đóng tiền điện", False, Rule("monthly", days=(5,)), T(8), "đóng tiền điện", (0,)),
        ("every month on the 31st pay rent", False, Rule("monthly", days=(31,)), T(8), "pay rent", (0,)),
        ("every monday 7:30 take out the bins", False, Rule("weekly", weekday=0), T(7, 30), "take out the bins", (0,)),
        ("lúc 8g sáng chủ nhật hằng tuần đi chợ", False, Rule("weekly", weekday=6), T(8), "đi chợ", (0,)),
        ("remind me to water plants at 6pm every day", False, Rule("daily"), T(18), "water plants", (0,)),
        ("in 45 minutes tea", False, Rule("once", date=D(2026, 3, 1)), T(10, 15), "tea", (0,)),
        ("19:00 gọi bà", False, Rule("once", date=D(2026, 3, 1)), T(19), "gọi bà", (0,)),
        ("8h15 uống thuốc", False, Rule("once", date=D(2026, 3, 2)), T(8, 15), "uống thuốc", (0,)),
        ("15/8 âm rước đèn", False, Rule("once", date=D(2026, 9, 25)), T(8), "rước đèn", (0,)),
        ("1/6 9:00 sinh nhật bé Na", False, Rule("once", date=D(2026, 6, 1)), T(9), "sinh nhật bé Na", (0,)),
    ],
)  # fmt: skip
def test_forms_are_read(
    form: str, gio: bool, rule: Rule, at: dt.time, title: str, leads: tuple[int, ...]
) -> None:
    draft = parse_form(form, NOW, gio=gio)
    assert (draft.rule, draft.at, draft.title, draft.leads) == (rule, at, title, leads)


def test_family_wide_marker() -> None:
    assert parse_form("cả nhà 15/8 âm hằng năm Trung thu", NOW).family_wide
    assert parse_form("family every sunday 18:00 dinner", NOW).family_wide
    assert not parse_form("8:00 hằng ngày uống thuốc", NOW).family_wide


@pytest.mark.parametrize(
    ("form", "gio", "vi", "en"),
    [
        ("lorem ipsum", False, "Mình chưa hiểu lời nhắc này.", "I didn't understand that reminder."),
        ("hằng ngày", False, "Thiếu nội dung cần nhắc.", "What should I remind you of?"),
        ("25:00 hằng ngày x", False, "Giờ không hợp lệ.", "That time is not valid."),
        ("8:00 hôm nay uống thuốc", False, "Thời điểm đó đã qua rồi.", "That time has already passed."),
        ("31/2 sinh nhật", False, "Ngày không hợp lệ.", "That date is not valid."),
        ("Ông nội", True, "Mình chưa hiểu lời nhắc này.", "I didn't understand that reminder."),
        ("Ông nội 10/13 âm", True, "Ngày không hợp lệ.", "That date is not valid."),
        ("Ông nội 10/3 âm trước 90 ngày", True, "Số ngày nhắc trước phải từ 0 đến 60.",
         "Days ahead must be between 0 and 60."),
    ],
)  # fmt: skip
def test_parse_errors_in_vietnamese_and_english_with_an_example(
    form: str, gio: bool, vi: str, en: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_form(form, NOW, gio=gio)
    err = caught.value
    assert err.user_message("vi").startswith(vi) and err.user_message("en").startswith(en)
    example = "/gio " if gio else "/nhac "
    assert example in err.user_message("vi")
    assert ("/gio " if gio else "/remind ") in err.user_message("en")
