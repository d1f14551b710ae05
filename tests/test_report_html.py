"""`hearth report --html`: one self-contained page with inline SVG charts."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from bot.app import Hearth
from tests.usage_kit import ask, build_scenario, cli, press

SCRIPT = Path(__file__).parents[1] / "scripts" / "report_screenshot.sh"


async def test_html_is_self_contained_and_escaped(hearth: Hearth, tmp_path: Path) -> None:
    await build_scenario(hearth)
    hostile = await ask(hearth, "<script>alert('x')</script> & cá kho?", chat="a", user="a1")
    await press(hearth, f"fb:up:{hostile.answer_id}", chat="a", user="a1")
    page = tmp_path / "report.html"
    result = cli(hearth.settings.db_path, "report", "--html", str(page), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answers"] == 21  # --json still prints the document
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; cá kho?" in html
    urls = set(re.findall(r"(?:https?:)?//[^\s'\"<>]+", html))
    assert urls <= {
        "http://www.w3.org/2000/svg",
        "http://127.0.0.1:9/v1",
        "https://api.example.com/v1",
    }  # only text in the endpoint table
    assert not re.search(r"<(link|img|iframe|object)\b", html)
    assert "src=" not in html and "@import" not in html and "url(" not in html
    assert html.count("<svg") == 9
    for heading in (
        "Answers and returns per day",
        "Top returned answers",
        "Top knowledge",
        "Contributors",
        "Retention",
        "Model endpoints",
    ):
        assert heading in html
    # the per-day chart draws one bar per series per day with the right values
    assert "03-02 · answers: 13" in html and "03-02 · positive returns: 10" in html
    assert "2026-W10 · returning: 1" in html


async def test_html_write_failure_is_bad_input(hearth: Hearth, tmp_path: Path) -> None:
    result = cli(hearth.settings.db_path, "report", "--html", str(tmp_path / "no" / "r.html"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def screenshot(page: Path, png: Path) -> subprocess.CompletedProcess[bytes]:
    """Run the repository's screenshot script."""
    return subprocess.run(
        [str(SCRIPT), str(page), str(png), "1200,1600"], capture_output=True, timeout=120
    )


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
async def test_report_renders_in_headless_chromium(hearth: Hearth, tmp_path: Path) -> None:
    await build_scenario(hearth)
    page, png = tmp_path / "report.html", tmp_path / "report.png"
    assert cli(hearth.settings.db_path, "report", "--html", str(page)).returncode == 0
    done = screenshot(page, png)
    assert done.returncode == 0, done.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 1600)
    assert len(data) > 30_000  # charts and text, not a blank page
