"""Honest wait estimates: the admission pace actually achieved over the recent rounds.

Each admission round records (when, admitted, room): `room` is what the round could admit, its batch
bounded by the free places under the cap, and 0 while paused, before a seat is available or when sold
out. Room rather than admitted: a round that admits 2 because only 2 were waiting still offered its whole
room to whoever joins next, while a round held back by the cap, a pause or the inventory offered nothing.

The rule for "no admission achieved yet": while no round has been recorded in the recent window (the
sale has just opened, or the concert's rounds have not started), the configured pace (the concert's batch
per interval) is the only evidence, and the estimate uses it. Once rounds are recorded, only they count:
rounds that together offered no room give no estimate (None), never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MIN_WINDOW_SECONDS = 60
WINDOW_ROUNDS = 6  # the window spans at least this many of the concert's intervals
KEEP_ROUNDS = 64  # rounds a store keeps per concert


def window_ms(*, interval_seconds: int) -> int:
    return max(MIN_WINDOW_SECONDS, WINDOW_ROUNDS * interval_seconds) * 1000


def achieved_rate(
    *, rounds: Iterable[tuple[int, int, int]], now_ms: int, interval_seconds: int
) -> float | None:
    """Tokens per second the recent rounds offered, or None when no round is in the window.
    `rounds` are (ms, admitted, room), in any order."""
    start = now_ms - window_ms(interval_seconds=interval_seconds)
    recent = [(at, room) for at, _, room in rounds if start < at <= now_ms]
    if not recent:
        return None
    oldest = min(at for at, _ in recent)
    # The oldest round stands for the interval before it, so one round alone means room per interval.
    span_ms = min(now_ms - oldest + interval_seconds * 1000, now_ms - start)
    return sum(room for _, room in recent) * 1000 / max(1, span_ms)


def admitted_since(*, rounds: Iterable[tuple[int, int, int]], since_ms: int) -> int:
    return sum(admitted for at, admitted, _ in rounds if at > since_ms)


def estimate_seconds(*, position: int, rate: float, interval_seconds: int) -> int | None:
    """Seconds until the round that admits `position`, at `rate` tokens per second (None at rate 0)."""
    if rate <= 0:
        return None
    per_round = rate * interval_seconds
    return math.ceil(position / per_round - 1e-9) * interval_seconds


def parse_rounds(raw: Iterable[str | bytes]) -> list[tuple[int, int, int]]:
    """The Redis store's "ms:admitted:room" entries."""
    parsed = []
    for entry in raw:
        text = entry.decode() if isinstance(entry, bytes) else entry
        at, admitted, room = text.split(":")
        parsed.append((int(at), int(admitted), int(room)))
    return parsed
