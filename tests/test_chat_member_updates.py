"""Telegram's chat_member / my_chat_member updates take effect at once: a demoted admin loses
curating rights with the next message, and a bot removed from a group stops sending there."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.servers.openai_server import OpenAIServer, delay
from tests.servers.telegram_api import BOT_ID, BOT_USERNAME, FakeTelegram
from tests.support.telegram import start_telegram

GROUP = -100300400
ADMIN = 4001
OWNER = 4000


async def test_item_m_a_demoted_admin_loses_rights_at_once(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str]
) -> None:
    """Item M: the admin list was cached for five minutes, so a demoted admin kept curating;
    a chat_member update now changes it (and the stored role) at once."""
    running = await start_telegram(tmp_path, telegram_api, TELEGRAM_RATE_LIMIT="off")
    fake = running.fake
    try:
        await running.polling()
        allowed = fake.sent("getUpdates")[-1].params.get("allowed_updates", "")
        assert "chat_member" in allowed and "my_chat_member" in allowed, allowed
        fake.set_admins(GROUP, [OWNER, ADMIN])
        fake.push_message(GROUP, f"/kb@{BOT_USERNAME} add Canh chua | Me, cà chua", user_id=ADMIN)
        texts = await running.bot_texts(GROUP, 2)
        assert "#" in texts[-1] and "quản trị" not in texts[-1], texts[-1]

        fake.set_admins(GROUP, [OWNER])
        fake.push_member_change(GROUP, ADMIN, "administrator", "member", by=OWNER)
        await running.wait_rows(
            "SELECT role FROM members WHERE user_id = ?", str(ADMIN), expect=[{"role": "member"}]
        )
        fake.push_message(GROUP, f"/kb@{BOT_USERNAME} add Thịt kho | Thịt, trứng", user_id=ADMIN)
        texts = await running.bot_texts(GROUP, 3)
        assert "quản trị" in texts[-1], texts[-1]  # refused: only admins curate
        titles = await running.rows("SELECT title FROM entries WHERE family_id IS NOT NULL")
        assert titles == [{"title": "Canh chua"}]
    finally:
        await running.close()


async def test_item_m_a_bot_removed_from_a_group_stops_sending_there(
    tmp_path: Path, telegram_api: tuple[FakeTelegram, str, str], openai_server: OpenAIServer
) -> None:
    """Item M: removed from a group while an answer is being written, the bot sent it
    anyway; now nothing more goes to that chat, and its unanswered messages are not
    answered at the next start either."""
    running = await start_telegram(
        tmp_path,
        telegram_api,
        TELEGRAM_RATE_LIMIT="off",
        LLM_BASE_URL=openai_server.base_url,
        LLM_MODEL="m",
    )
    fake = running.fake
    try:
        await running.polling()
        fake.push_message(GROUP, f"@{BOT_USERNAME} xin chào", user_id=ADMIN)
        await running.bot_texts(GROUP, 1)
        await running.wait_rows(
            "SELECT status FROM messages WHERE role = 'user'", expect=[{"status": "answered"}]
        )
        openai_server.script(delay(1.0))
        fake.push_message(GROUP, f"@{BOT_USERNAME} cá kho thế nào?", user_id=ADMIN)
        await fake.until(lambda: len(openai_server.requests()) >= 1)
        sent_before = len(fake.sent("sendMessage", GROUP))
        fake.push_member_change(GROUP, BOT_ID, "member", "kicked", by=OWNER)
        await running.wait_rows(
            "SELECT status FROM messages WHERE role = 'user' ORDER BY id",
            expect=[{"status": "answered"}, {"status": "ignored"}],
        )
        await asyncio.sleep(1.5)  # the model's answer arrives meanwhile
        assert len(fake.sent("sendMessage", GROUP)) == sent_before
        assert not fake.sent("editMessageText", GROUP)
    finally:
        await running.close()
