"""`hearth bench`: Hearth's own cost per message, measured on a synthetic database.

synthetic (the world) → runner (phases, child processes) → worker/measure (one Hearth)
and telegram_throughput (hearth run vs a bare echo bot) → report (table or JSON).
"""
