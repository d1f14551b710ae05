"""`hearth bench`: what families feel, measured against loopback Telegram and a loopback model.

plan (the scale) → runner (the phases) → synthetic + kb_fill (the database) → kb_search
(a child process), bots (`hearth run` or the echo bot polling a loopback Bot API with
Telegram's limits, telegram_limits) driven by sustained (a steady rate) and load (memory,
pace beside the echo bot), model (the ~300 ms streamed answer) → report (targets, table).
"""
