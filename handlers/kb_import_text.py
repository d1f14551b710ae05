"""Import problems in the member's language: the parser reports them in English (the CLI and
JSON keep that), chat shows Vietnamese to Vietnamese speakers instead of mixing languages."""

from __future__ import annotations

import re

from bot.core.i18n import tr
from knowledge.transfer import ImportReport

FIELDS_VI = {
    "title": "tiêu đề",
    "body": "nội dung",
    "tags": "thẻ",
    "aliases": "tên khác",
    "language": "ngôn ngữ",
    "author": "tác giả",
    "source": "nguồn",
    "created_at": "ngày tạo",
    "updated_at": "ngày sửa",
}
WHERE_VI = (
    (re.compile(r"^line (\d+)$"), "dòng {0}"),
    (re.compile(r"^index (\d+)$"), "mục số {0}"),
    (re.compile(r"^record (\d+)$"), "mục số {0}"),
    (re.compile(r"^file$"), "tệp"),
)
WHY_VI = (
    (re.compile(r"^missing (\w+)$"), "thiếu {f0}"),
    (
        re.compile(r"^not an object with title and body$"),
        "không phải một mục có tiêu đề và nội dung",
    ),
    (re.compile(r"^title longer than (\d+) characters$"), "tiêu đề dài quá {0} ký tự"),
    (re.compile(r"^body longer than (\d+) characters$"), "nội dung dài quá {0} ký tự"),
    (
        re.compile(r"^(\w+) must be a list of strings or a comma-separated string$"),
        "{f0} phải là danh sách chữ hoặc các từ cách nhau bằng dấu phẩy",
    ),
    (re.compile(r"^verbatim must be true or false$"), "verbatim phải là true hoặc false"),
    (
        re.compile(r"^language (.+) is not a language code like vi or en$"),
        "ngôn ngữ {0} không phải mã như vi hay en",
    ),
    (re.compile(r"^(\w+) must be text$"), "{f0} phải là chữ"),
    (re.compile(r"^(\w+) (.+) is not an ISO timestamp$"), "{f0} {1} không phải ngày giờ ISO"),
    (re.compile(r"^invalid JSON: (.+)$"), "JSON không hợp lệ ({0})"),
    (re.compile(r"^nested too deeply$"), "lồng nhau quá sâu"),
    (
        re.compile(r"^bad CSV: a quote opened on this line is never closed; nothing was imported$"),
        "CSV hỏng: dấu ngoặc kép mở ở dòng này không được đóng; chưa nhập mục nào",
    ),
    (re.compile(r"^bad CSV: (.+)$"), "CSV không hợp lệ ({0})"),
    (re.compile(r"^more cells than header columns$"), "nhiều ô hơn số cột tiêu đề"),
    (
        re.compile(r"^text before the first front-matter header$"),
        "có chữ trước phần đầu (---) của mục đầu tiên",
    ),
    (re.compile(r"^bad value for (\w+)$"), "giá trị của {f0} không đọc được"),
    (re.compile(r"^not UTF-8 text \((.+)\)$"), "tệp không phải chữ UTF-8 ({0})"),
)


def _render(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str:
    for pattern, template in patterns:
        found = pattern.match(text)
        if found:
            groups = found.groups()
            fields = {f"f{n}": FIELDS_VI.get(g, g) for n, g in enumerate(groups)}
            return template.format(*groups, **fields)
    return text


def import_problem(lang: str, where: str, why: str) -> str:
    """One bad record as a bullet line, in Vietnamese when the member writes Vietnamese."""
    return tr(
        lang,
        f"• {_render(WHERE_VI, where)}: {_render(WHY_VI, why)}",
        f"• {where}: {why}",
    )


def left_out_by_caps(lang: str, report: ImportReport) -> list[str]:
    """What the caps left out of an import, one line each, in the member's language."""
    lines = []
    if report.unread:
        read = report.found - report.unread
        lines.append(
            tr(
                lang,
                f"Tệp có {report.found} mục; mỗi lần nhập chỉ đọc {read} mục đầu, {report.unread}"
                " mục sau đó chưa được nhập.",
                f"The file has {report.found} rows; an import reads the first {read} only, so"
                f" {report.unread} were not imported.",
            )
        )
    if report.over_family_cap:
        cap = report.limits.family_max_entries
        lines.append(
            tr(
                lang,
                f"Kho của gia đình giữ tối đa {cap} mục, nên {report.over_family_cap} mục"
                " không được nhập.",
                f"A family's knowledge base holds at most {cap} entries, so"
                f" {report.over_family_cap} were not imported.",
            )
        )
    return lines
