"""Terminal tables aligned by display width; `hearth logs` and `hearth report` as text."""

from __future__ import annotations

import unicodedata

from bot.app import Hearth
from bot.report.tables import display_width, render_table, truncate
from tests.usage_kit import build_scenario, cli


def test_display_width_counts_cells_not_code_points() -> None:
    nfc = "Bánh xèo"
    nfd = unicodedata.normalize("NFD", nfc)
    assert len(nfd) > len(nfc)
    assert display_width(nfc) == display_width(nfd) == 8
    assert display_width("Phở bò nhà mình") == 15
    assert display_width("餃子") == 4
    assert display_width("👍") == 2
    assert display_width("👨\u200d👩\u200d👧") == 6  # ZWJ is zero-width
    assert display_width("ab\u0301c") == 3


def test_truncate_cuts_by_width_and_keeps_marks() -> None:
    nfd = unicodedata.normalize("NFD", "Nước màu kho cá")
    cut = truncate(nfd, 8)
    assert display_width(cut) <= 8 and cut.endswith("…")
    assert unicodedata.normalize("NFC", cut) == "Nước mà…"
    assert truncate("餃子餃子", 5) == "餃子…"
    assert truncate("ngắn", 10) == "ngắn"


def test_cells_cannot_smuggle_terminal_control_sequences() -> None:
    table = render_table(["q"], [["a\x1b[2Jb\nc\u202ed\u200de"]])
    assert "\x1b" not in table and "\u202e" not in table and "\n" not in table.split("\n", 2)[2]
    assert table.splitlines()[2] == "a [2Jb cd\u200de"


def column_starts(line: str, values: list[str]) -> list[int]:
    """The display column where each value starts in a rendered line."""
    starts, pos = [], 0
    for value in values:
        index = line.index(value, pos)
        starts.append(display_width(line[:index]))
        pos = index + len(value)
    return starts


def test_render_table_aligns_vietnamese_cjk_and_emoji() -> None:
    rows = [
        ["Bánh xèo", 3, "x"],
        [unicodedata.normalize("NFD", "Phở bò nhà mình"), 12, "y"],
        ["餃子 👍", 7, "z"],
    ]
    lines = render_table(["title", "returns", "tag"], rows).splitlines()
    assert len({display_width(line) for line in lines[2:]}) == 1
    tags = [
        column_starts(line, [str(r[1]), str(r[2])]) for line, r in zip(lines[2:], rows, strict=True)
    ]
    # the numbers are right-aligned (same end column), the tags start in one column
    assert len({start + len(str(r[1])) for (start, _), r in zip(tags, rows, strict=True)}) == 1
    assert len({tag for _, tag in tags}) == 1


def cols(lines: list[str], start: int, end: int) -> list[str]:
    """The text between two display columns of each line."""
    out = []
    for line in lines:
        text, pos = "", 0
        for ch in line:
            if start <= pos < end:
                text += ch
            pos += display_width(ch)
        out.append(text)
    return out


async def test_report_and_logs_print_aligned_tables(hearth: Hearth) -> None:
    await build_scenario(hearth)
    db = hearth.settings.db_path
    report = cli(db, "report")
    assert report.returncode == 0, report.stderr
    text = report.stdout
    assert "Làm cá kho thế nào?" in text and "Bà Ngoại" in text
    section = text.split("Top returned answers\n", 1)[1].split("\n\n", 1)[0].splitlines()
    header, rows = section[0], section[2:]
    questions = ["Làm cá kho thế nào?", "Nấu phở bò ra sao?", "Đổ bánh xèo giòn?"]
    question_col = display_width(header[: header.index("question")])
    returns_end = display_width(header[: header.index("returns") + len("returns")])
    for row, question in zip(rows, questions, strict=False):
        assert column_starts(row, [question])[0] == question_col  # intact, in its column
    figures = [cell.strip() for cell in cols(rows, returns_end - 7, returns_end)]
    assert figures == ["4", "3", "3", "2", "2"]

    logs = cli(db, "logs", "--since", "2026-03-02", "--limit", "50")
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert lines[0].split() == [
        "answer",
        "time",
        "(UTC)",
        "family",
        "model",
        "ms",
        "entries",
        "returns",
        "question",
    ]
    assert len(lines) == 2 + 13  # header, rule, the thirteen answers of 2026-03-02
    assert all("2026-03-02" in line for line in lines[2:])
    fam_col = {column_starts(line, ["console:"])[0] for line in lines[2:]}
    assert len(fam_col) == 1
    old = cli(db, "logs", "--since", "2026-02-01", "--limit", "50", "--family", "console:c")
    assert len(old.stdout.splitlines()) == 2 + 4
    prompts = cli(db, "logs", "--limit", "1", "--prompts")
    assert "[user]" in prompts.stdout
