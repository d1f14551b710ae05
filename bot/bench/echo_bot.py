"""The yardstick: a bare python-telegram-bot bot that answers each text with one message
and a keyboard, configured like Hearth's adapter (pooled HTTP, many updates at once).

Run as `python -m bot.bench.echo_bot BASE_URL FILE_URL TOKEN`; SIGTERM stops it.
"""

from __future__ import annotations

import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CallbackContext, MessageHandler, filters
from telegram.request import HTTPXRequest

KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("👍", callback_data="fb:up:0"),
            InlineKeyboardButton("👎", callback_data="fb:down:0"),
            InlineKeyboardButton("📌", callback_data="fb:save:0"),
        ]
    ]
)
POOL = 64  # connections; Hearth queues its callers in front of 16 (bot/platforms/telegram_http.py)
CONCURRENT = 1024  # PTB's concurrent_updates(True) would cap at 256


async def echo(update: Update, context: CallbackContext) -> None:
    """One message back, with the same three buttons Hearth puts under an answer."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(f"Echo: {message.text[:200]}", reply_markup=KEYBOARD)


def main() -> int:
    """Poll the given Bot API until SIGTERM."""
    base, file_base, token = sys.argv[1:4]
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base)
        .base_file_url(file_base)
        .request(HTTPXRequest(connection_pool_size=POOL, pool_timeout=10.0))
        .get_updates_request(HTTPXRequest(connection_pool_size=4, read_timeout=15.0))
        .concurrent_updates(CONCURRENT)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.UpdateType.EDITED, echo))
    app.run_polling(allowed_updates=[Update.MESSAGE], timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
