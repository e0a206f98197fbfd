"""How big each benchmark is: the full run the targets are stated for, and a quick one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    replay_messages: int  # the realistic inbox replayed from an mbox and from Dovecot
    idle_sizes: tuple[int, ...]  # messages already in INBOX when idle polls are measured
    idle_polls: int  # polls timed at each size (the median is reported)
    latency_messages: int  # messages delivered one by one to measure reply latency
    burst_messages: int  # delivered within one minute (the deadline night)
    big_attachment_mb: int  # the one large attachment of the memory benchmark


FULL = Scale("full", 10_000, (1_000, 10_000, 50_000), 20, 20, 300, 60)
QUICK = Scale("quick", 300, (100, 1_000), 5, 5, 30, 10)
