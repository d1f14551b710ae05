"""The scale of a bench run: the full one the targets are stated at, or `--quick`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plan:
    """How big the synthetic world is and how hard each measurement pushes."""

    quick: bool
    families: int  # synthetic families (chats) in the database
    history: int  # messages already in their history
    entries: int  # knowledge entries
    rate: float  # sustained: messages a second …
    chats: int  # … across this many chats …
    seconds: float  # … for this long (after one warm-up message per chat)
    load_messages: int  # messages over all families before memory is read
    startup_runs: int
    search_samples: int
    search_warmup: int
    calendar_families: int = 10_000  # the reminder due-check: this many families …
    calendar_per_family: int = 10  # … with this many reminders each …
    calendar_ticks: int = 3_600  # … checked once a (moved) second for this many seconds

    @classmethod
    def full_scale(cls) -> Plan:
        """The scale of the targets: 30 msg/s over 200 chats for 60 s, 10k messages over
        1,000 families, 100k knowledge entries, 100k reminders across 10k families."""
        return cls(False, 1_000, 1_000_000, 100_000, 30.0, 200, 60.0, 10_000, 5, 2_000, 200)

    @classmethod
    def quick_scale(cls) -> Plan:
        """Small enough for `make test` (about half a minute); not judged against targets."""
        return cls(True, 50, 10_000, 1_000, 30.0, 50, 3.0, 100, 1, 150, 30, 50, 20, 600)

    def describe(self) -> str:
        """One readable line of what this run will do."""
        return (
            f"{'quick' if self.quick else 'full'} scale: {self.families:,} families with"
            f" {self.history:,} messages of history and {self.entries:,} knowledge entries;"
            f" sustained {self.rate:g} msg/s across {self.chats:,} chats for {self.seconds:g} s;"
            f" {self.load_messages:,} messages over {self.families:,} families for memory;"
            f" {self.calendar_families * self.calendar_per_family:,} reminders across"
            f" {self.calendar_families:,} families for the due-check"
        )
