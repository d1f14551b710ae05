"""Tokens, webhook secrets and API keys never reach the logs or the database file."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from bot.core.logs import SecretFilter
from tests.servers.openai_server import running_openai_server, status
from tests.support.net import free_port
from tests.test_hostile_cli import run_hearth

TELEGRAM_TOKEN = "123456789:AAFakeTelegramTokenForTests_0123456789"
ZALO_TOKEN = "4242424242:FakeZaloSecretForTests0123456789"
TELEGRAM_WEBHOOK_SECRET = "fake-telegram-webhook-secret-0123456789"
ZALO_WEBHOOK_SECRET = "fake-zalo-webhook-secret-0123456789"
LLM_API_KEY = "sk-fake-api-key-for-tests-0123456789abcdef"
SECRETS = (TELEGRAM_TOKEN, ZALO_TOKEN, TELEGRAM_WEBHOOK_SECRET, ZALO_WEBHOOK_SECRET, LLM_API_KEY)
SECRET_ENV = {
    "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
    "ZALO_BOT_TOKEN": ZALO_TOKEN,
    "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_WEBHOOK_SECRET,
    "ZALO_WEBHOOK_SECRET": ZALO_WEBHOOK_SECRET,
    "LLM_API_KEY": LLM_API_KEY,
    "HEARTH_LOG_LEVEL": "DEBUG",
}
CONVERSATION = (
    "/start\n/remember Bà nội không ăn cay\nLàm cá kho thế nào?\n/memory\n/help\n"
    "/forget 99\n/hay_1\n/luu_1\n" + "x" * 5000 + "\n"
).encode()


def db_bytes(tmp_path: Path) -> bytes:
    """The database file and its WAL, as bytes (where a stray secret would sit)."""
    data = b""
    for path in tmp_path.glob("hearth.db*"):
        data += path.read_bytes()
    return data


def assert_no_secret(where: str, data: bytes) -> None:
    for secret in SECRETS:
        assert secret.encode() not in data, f"{where} contains {secret[:12]}…"
        # a secret split by escaping (JSON, repr) still shows its longest tail
        assert secret[8:].encode() not in data, f"{where} contains part of {secret[:12]}…"


def test_no_secret_in_logs_or_database_of_a_debug_chat(tmp_path: Path) -> None:
    with running_openai_server() as model:
        model.script(status(500), status(401, f"Incorrect API key provided: {LLM_API_KEY}"))
        env = {**SECRET_ENV, "LLM_BASE_URL": model.base_url, "LLM_MODEL": "m"}
        proc = run_hearth(tmp_path, ["chat", "--family", "secrets"], CONVERSATION, **env)
        calls = model.requests()
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert calls and all(c.had_auth for c in calls), "the key was never used"
    assert b"DEBUG" in proc.stderr or b"INFO" in proc.stderr or proc.stderr == b""
    assert_no_secret("stderr", proc.stderr)
    assert_no_secret("stdout", proc.stdout)
    assert_no_secret("the database", db_bytes(tmp_path))
    for args in (["db", "status", "--json"], ["logs", "--json"]):
        other = run_hearth(tmp_path, args, b"", **SECRET_ENV)
        assert other.returncode == 0, other.stderr.decode()
        assert_no_secret(" ".join(args), other.stdout + other.stderr)


def test_config_errors_do_not_echo_secrets(tmp_path: Path) -> None:
    bad = {
        **SECRET_ENV,
        "TELEGRAM_BOT_TOKEN": "not-a-token-" + TELEGRAM_TOKEN,
        "LLM_ENDPOINTS": json.dumps([{"base_url": "nope", "model": "m", "api_key": LLM_API_KEY}]),
    }
    proc = run_hearth(tmp_path, ["chat"], b"", **bad)
    assert proc.returncode == 2
    assert proc.stderr.decode().count("\n") == 1
    assert_no_secret("stderr", proc.stderr)


def test_secret_filter_scrubs_messages_args_and_tracebacks() -> None:
    """The filter the CLI installs masks secrets in the text, the args and the traceback."""
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "calling %s", (TELEGRAM_TOKEN,), None
    )
    try:
        raise RuntimeError(f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe failed")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert SecretFilter(SECRETS).filter(record)
    text = logging.Formatter().format(record)
    assert TELEGRAM_TOKEN not in text
    assert "***" in text


async def test_zalo_webhook_without_the_right_secret_changes_nothing(tmp_path: Path) -> None:
    """A forged update (no or wrong secret header) is refused and never reaches the database."""
    import asyncio

    import httpx

    from tests.servers.zalo_api import running_zalo_api
    from tests.support.zalo_webhook import zalo_webhook

    with running_zalo_api(long_poll_cap_s=0.2) as api:
        async with zalo_webhook(tmp_path, api, secret=ZALO_WEBHOOK_SECRET) as hook:
            forged = api.make_update("/remember kẻ lạ ghi đè kiến thức", chat_id="victim")
            async with httpx.AsyncClient() as http:
                for headers in (
                    {},
                    {"X-Bot-Api-Secret-Token": ""},
                    {"X-Bot-Api-Secret-Token": ZALO_WEBHOOK_SECRET[:-1]},
                    {"X-Bot-Api-Secret-Token": ZALO_WEBHOOK_SECRET + "x"},
                    {"X-Bot-Api-Secret-Token": TELEGRAM_WEBHOOK_SECRET},
                ):
                    response = await http.post(hook.url, json=forged, headers=headers)
                    assert response.status_code in (401, 403), headers
                    assert ZALO_WEBHOOK_SECRET not in response.text
            await asyncio.sleep(0.2)
            db = hook.app.services.db
            assert await db.scalar("SELECT count(*) FROM messages") == 0
            assert await db.scalar("SELECT count(*) FROM facts") == 0
            assert api.sent_to("victim") == []


def _webhook_env(secret: str | None) -> tuple[str, dict[str, str]]:
    """The Telegram webhook settings on a free loopback port."""
    from tests.servers.telegram_api import TOKEN

    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_URL": url,
        "TELEGRAM_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        "TELEGRAM_RATE_LIMIT": "off",
    }
    if secret:
        env["TELEGRAM_WEBHOOK_SECRET"] = secret
    return url, env


async def test_telegram_webhook_without_the_right_secret_changes_nothing(tmp_path: Path) -> None:
    import asyncio

    import httpx

    from bot.app import build
    from bot.platforms.telegram import run_telegram
    from tests.conftest import make_settings
    from tests.servers.telegram_api import running_telegram

    url, env = _webhook_env(TELEGRAM_WEBHOOK_SECRET)
    with running_telegram() as (fake, base, file_base):
        settings = make_settings(
            tmp_path, TELEGRAM_API_BASE_URL=base, TELEGRAM_API_BASE_FILE_URL=file_base, **env
        )
        app = await build(settings)
        stop = asyncio.Event()
        task = asyncio.create_task(run_telegram(app, settings, stop, grace_s=5))
        try:
            await fake.until(lambda: bool(fake.sent("setWebhook")) or task.done())
            await asyncio.sleep(0.3)
            assert fake.sent("setWebhook")[-1].params.get("secret_token") == TELEGRAM_WEBHOOK_SECRET
            forged = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 77, "type": "private", "first_name": "X"},
                    "from": {"id": 77, "is_bot": False, "first_name": "X"},
                    "text": "/remember kẻ lạ ghi đè",
                },
            }
            async with httpx.AsyncClient() as http:
                for headers in (
                    {},
                    {"X-Telegram-Bot-Api-Secret-Token": ""},
                    {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_WEBHOOK_SECRET[:-1]},
                    {"X-Telegram-Bot-Api-Secret-Token": ZALO_WEBHOOK_SECRET},
                ):
                    response = await http.post(url, json=forged, headers=headers)
                    assert response.status_code in (401, 403), (headers, response.status_code)
            await asyncio.sleep(0.2)
            assert await app.services.db.scalar("SELECT count(*) FROM messages") == 0
            assert fake.bot_messages(77) == []
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await app.aclose()


def test_webhook_mode_without_a_secret_does_not_start(tmp_path: Path) -> None:
    """Without TELEGRAM_WEBHOOK_SECRET anyone who learns the URL could forge updates."""
    proc = run_hearth(
        tmp_path,
        ["run"],
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_WEBHOOK_URL="https://hearth.example/tg/hook",
    )
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "TELEGRAM_WEBHOOK_SECRET" in err and err.count("\n") == 1
    assert_no_secret("stderr", proc.stderr)


def test_item_c_a_rejected_telegram_token_is_never_printed(tmp_path: Path) -> None:
    """Hardening C: a revoked or wrong token makes `hearth run` stop with one line that says
    so — and neither that line nor any log line carries the token."""
    from tests.servers.telegram_api import running_telegram

    with running_telegram(token="111:the-right-token-is-another-one") as (_fake, base, files):
        proc = run_hearth(
            tmp_path,
            ["run"],
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_API_BASE_URL=base,
            TELEGRAM_API_BASE_FILE_URL=files,
            HEARTH_LOG_LEVEL="DEBUG",
        )
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert "token" in err.lower()
    assert_no_secret("stderr", proc.stderr)
    assert_no_secret("stdout", proc.stdout)


def test_item_c_unexpected_errors_are_scrubbed_before_any_config_is_read(tmp_path: Path) -> None:
    """Hardening C: the CLI's last line of defence masks the secrets it finds in the
    environment even when the settings themselves could not be read."""
    from bot.core.logs import scrub

    env = {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "LLM_ENDPOINTS": json.dumps(
            [{"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": LLM_API_KEY}]
        ),
    }
    text = scrub(f"url /bot{TELEGRAM_TOKEN}/getMe key={LLM_API_KEY}", env)
    assert TELEGRAM_TOKEN not in text and LLM_API_KEY not in text and "***" in text
