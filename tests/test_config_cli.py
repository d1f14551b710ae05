"""Settings validation and the CLI's exit codes, through the real `hearth` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import load_settings
from bot.core.errors import ConfigError


def hearth(
    tmp_path: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` in a clean environment inside tmp_path."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLM_", "TELEGRAM_", "ZALO_", "HEARTH_"))
    }
    base.update({"HEARTH_DB": str(tmp_path / "h.db"), "PYTHONPATH": str(Path(__file__).parents[1])})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=base,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "var"),
    [
        ({"LLM_ENDPOINTS": "[{oops"}, "LLM_ENDPOINTS"),
        ({"LLM_ENDPOINTS": '[{"base_url": "ftp://x", "model": "m"}]'}, "LLM_ENDPOINTS[0]"),
        ({"LLM_BASE_URL": "not a url"}, "LLM_BASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": "nope"}, "TELEGRAM_BOT_TOKEN"),
        ({"HEARTH_LOG_LEVEL": "LOUD"}, "HEARTH_LOG_LEVEL"),
        ({"LLM_TIMEOUT_S": "-3"}, "LLM_TIMEOUT_S"),
        ({"HEARTH_ADMINS": "12345"}, "HEARTH_ADMINS"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path: Path, env: dict[str, str], var: str) -> None:
    with pytest.raises(ConfigError, match=var.replace("[", r"\[").replace("]", r"\]")):
        load_settings({"HEARTH_DB": str(tmp_path / "x.db"), **env}, dotenv=None)


def test_endpoints_json_wins_and_marks_loopback_local(tmp_path: Path) -> None:
    s = load_settings(
        {
            "LLM_BASE_URL": "https://ignored.example/v1",
            "LLM_ENDPOINTS": json.dumps(
                [
                    {"base_url": "https://api.example.com/v1", "model": "big", "api_key": "sk-1"},
                    {"base_url": "http://127.0.0.1:8765/v1", "model": "small"},
                ]
            ),
        },
        dotenv=None,
    )
    assert [e.model for e in s.endpoints] == ["big", "small"]
    assert [e.local for e in s.endpoints] == [False, True]
    assert "sk-1" not in repr(s)


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('LLM_MODEL="from-file"\nLLM_BASE_URL=http://127.0.0.1:1/v1 # c\n')
    s = load_settings({"LLM_MODEL": "from-env"}, dotenv=env_file)
    assert s.endpoints[0].model == "from-env"
    assert s.endpoints[0].base_url == "http://127.0.0.1:1/v1"


def test_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    result = hearth(tmp_path, "chat", LLM_ENDPOINTS="{bad")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "LLM_ENDPOINTS" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_db_path_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = hearth(tmp_path, "db", "status", HEARTH_DB=str(blocker / "sub" / "h.db"))
    assert result.returncode == 2
    assert "HEARTH_DB" in result.stderr


def test_console_chat_from_a_pipe_without_model(tmp_path: Path) -> None:
    result = hearth(tmp_path, "run", stdin="xin chào\n/remember Bà nội không ăn cay\n/memory\n")
    assert result.returncode == 0, result.stderr
    assert "Hearth" in result.stdout
    assert "Đã ghi nhớ: Bà nội không ăn cay" in result.stdout
    assert "1. Bà nội không ăn cay" in result.stdout


def test_logs_json_shows_the_answer(tmp_path: Path) -> None:
    hearth(tmp_path, "chat", "--family", "console:nha", stdin="Làm cá kho thế nào?\n")
    result = hearth(tmp_path, "logs", "--json", "--family", "console:nha")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows[0]["question"] == "Làm cá kho thế nào?"
    assert set(rows[0]) >= {
        "answer_id",
        "family",
        "question",
        "prompt",
        "model",
        "endpoint",
        "latency_ms",
        "entry_ids",
        "returns",
    }
    assert rows[0]["prompt"][-1] == {"role": "user", "content": "Làm cá kho thế nào?"}
    redacted = hearth(tmp_path, "logs", "--json", HEARTH_LOG_CONTENT="redacted")
    assert "cá kho" not in redacted.stdout
    assert json.loads(redacted.stdout)[0]["question"].startswith("sha256:")


def test_unknown_family_is_bad_input(tmp_path: Path) -> None:
    result = hearth(tmp_path, "logs", "--family", "nobody")
    assert result.returncode == 2
    assert "nobody" in result.stderr


def test_db_commands(tmp_path: Path) -> None:
    status = hearth(tmp_path, "db", "status", "--json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert all(m["applied"] for m in doc["migrations"])
    backup = hearth(tmp_path, "db", "backup", str(tmp_path / "b.db"))
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "b.db").exists()
    bad = hearth(tmp_path, "nosuchcommand")
    assert bad.returncode == 2


@pytest.mark.parametrize("query", ["-x", "-", '"', "NEAR(", "*", "a:b", "--x", "' OR 1=1 --"])
def test_kb_search_accepts_any_text(tmp_path: Path, query: str) -> None:
    result = hearth(tmp_path, "kb", "search", query, "--json")
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)


def test_dotenv_reads_quoted_values_with_a_comment_after_them(tmp_path: Path) -> None:
    """`.env` is read by python-dotenv: `A="abc" # note` is abc, not `"abc"`."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        'LLM_MODEL="gemma 3" # the local one\n'
        "export LLM_BASE_URL='http://127.0.0.1:8080/v1'\n"
        "HEARTH_LOG_LEVEL=debug # loud\n",
        encoding="utf-8",
    )
    s = load_settings({"HEARTH_DB": str(tmp_path / "x.db")}, dotenv=env_file)
    assert s.endpoints[0].model == "gemma 3"
    assert s.endpoints[0].base_url == "http://127.0.0.1:8080/v1"
    assert s.log_level == "DEBUG"
