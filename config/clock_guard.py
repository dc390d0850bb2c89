"""The clock guard: this process's clock against the shared ones (PostgreSQL's, and Redis's `TIME` where
Redis is configured).

Holds, payments, token issue, admission rounds and the expiry sweep compute with the calling process's
"now". A node whose clock runs ahead would treat another fan's live hold as lapsed and take the seat over;
one that runs behind would let a lapsed token book. So when this clock is more than CLOCK_MAX_OFFSET_MS
off a reference, the process refuses those writes (`clock.write_now()` raises ClockOutOfBounds: 503 with
Retry-After), `/readyz` answers 503 naming the offset, a metric and a log line say so, and the process
serves again by itself once a later measurement finds the clock back. Reads never ask the guard.

Cost on the hot paths: `require_in_bounds()` is a monotonic read and two attribute reads. The measurement
(one SELECT and one Redis TIME) runs on the first time-dependent write of a process (every caller waits
for it: nothing is written before the clock has been compared once), then at most every
CLOCK_CHECK_SECONDS on the call that finds the verdict stale (one thread measures, the others go on with
the previous verdict; every second while the process refuses writes), and on every readiness probe.

The offset is measured against the midpoint of the round trip and only counts beyond half of it, so a
slow round trip under load never reads as a skewed clock; a measurement whose local clock stepped during
it (or whose round trip exceeds the allowed offset) is inconclusive and leaves the verdict as it was.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from config import metrics
from config.exceptions import ClockOutOfBounds

logger = logging.getLogger(__name__)

# The process's wall clock, as the booking code's `clock.now()` reads it (tests replace it to skew one
# process without touching the clock every other test moves).
local_time: Callable[[], float] = time.time


@dataclass(frozen=True, slots=True)
class Verdict:
    in_bounds: bool
    offset_ms: float | None  # this clock minus the reference (positive: ahead); None: nothing measured
    reference: str | None  # "postgresql" or "redis": the reference the largest offset was seen against
    checked_at: float  # time.monotonic() of the measurement


RECHECK_WHILE_REFUSING_SECONDS = 1.0

_verdict: Verdict | None = None  # None: never measured in this process
_measuring = threading.Lock()


def max_offset_ms() -> int:
    return int(settings.CLOCK_MAX_OFFSET_MS)


def enabled() -> bool:
    """0 turns the guard off; so does a single-machine set-up (SQLite, no Redis): one clock, nothing to
    compare."""
    return max_offset_ms() > 0 and (connection.vendor == "postgresql" or bool(settings.REDIS_URL))


def require_in_bounds() -> None:
    """Raise ClockOutOfBounds when this process's clock is out of bounds. Cheap unless the verdict is
    stale, when this call measures (or waits for a first measurement)."""
    verdict = _verdict
    if verdict is None or time.monotonic() - verdict.checked_at >= _interval(verdict):
        verdict = _refresh(wait=verdict is None or _too_old(verdict))
    if not verdict.in_bounds:
        metrics.CLOCK_REFUSALS.inc()
        raise ClockOutOfBounds()


def current(*, measure: bool = False) -> Verdict:
    """The verdict (measured now with `measure`, as the readiness probe does)."""
    if measure or _verdict is None:
        return _refresh(wait=True)
    return _verdict


def _interval(verdict: Verdict) -> float:
    """Seconds a verdict holds. A process refusing writes measures again within a second (it only pays
    on refused writes), so it serves again soon after its clock is back."""
    every = float(settings.CLOCK_CHECK_SECONDS)
    return every if verdict.in_bounds else min(every, RECHECK_WHILE_REFUSING_SECONDS)


def _too_old(verdict: Verdict) -> bool:
    """A verdict from long ago (a process idle for a while) is not trusted for a write: wait for a new one."""
    return time.monotonic() - verdict.checked_at >= 3 * settings.CLOCK_CHECK_SECONDS


def _refresh(*, wait: bool) -> Verdict:
    global _verdict
    asked_at = time.monotonic()
    if not _measuring.acquire(blocking=wait):
        return _verdict or _unmeasured()  # another thread is measuring: go on with the previous verdict
    try:
        previous = _verdict
        if previous is not None and previous.checked_at >= asked_at:
            return previous  # measured by the thread this one waited for
        verdict = _measure(previous)
        _record(previous, verdict)
        _verdict = verdict
        return verdict
    finally:
        _measuring.release()


def _unmeasured() -> Verdict:
    return Verdict(in_bounds=True, offset_ms=None, reference=None, checked_at=time.monotonic())


def _measure(previous: Verdict | None) -> Verdict:
    checked_at = time.monotonic()
    if not enabled():
        return Verdict(in_bounds=True, offset_ms=None, reference=None, checked_at=checked_at)
    offsets: list[tuple[float, float, str]] = []  # (offset ms, half round trip ms, reference)
    for name, read in (("postgresql", _postgres_epoch), ("redis", _redis_epoch)):
        reading = _offset(read)
        if reading is not None:
            offsets.append((*reading, name))
    if not offsets:  # no reference answered or the readings were inconclusive: keep what we knew
        kept = previous or _unmeasured()
        return Verdict(kept.in_bounds, kept.offset_ms, kept.reference, checked_at)
    offset, half_trip, reference = max(offsets, key=lambda o: abs(o[0]) - o[1])
    in_bounds = abs(offset) - half_trip <= max_offset_ms()
    return Verdict(
        in_bounds=in_bounds, offset_ms=round(offset, 1), reference=reference, checked_at=checked_at
    )


def _offset(read: Callable[[], float | None]) -> tuple[float, float] | None:
    """(this clock minus the reference, half the round trip), both in ms; None when the reference is not
    configured, did not answer, or the local clock moved too much during the round trip to tell."""
    before = local_time()
    try:
        reference = read()
    except Exception as exc:  # an unreachable reference is readiness's business, not the clock's
        logger.info("clock guard: reference unreachable (%s)", type(exc).__name__)
        return None
    after = local_time()
    if reference is None:
        return None
    trip_ms = (after - before) * 1000
    if trip_ms < 0 or trip_ms > max_offset_ms():
        return None
    return ((before + after) / 2 - reference) * 1000, trip_ms / 2


def _postgres_epoch() -> float | None:
    if connection.vendor != "postgresql":
        return None
    # clock_timestamp() is the server's clock at this instant (now() is frozen at the transaction's start).
    sql = "SELECT extract(epoch FROM clock_timestamp())"
    if connection.in_atomic_block:  # a savepoint, so a failure here cannot break the caller's transaction
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
    return float(row[0]) if row else None


def _redis_epoch() -> float | None:
    if not settings.REDIS_URL:
        return None
    from config.redis import get_redis

    seconds, micros = get_redis().time()
    return int(seconds) + int(micros) / 1_000_000


def _record(previous: Verdict | None, verdict: Verdict) -> None:
    if verdict.offset_ms is not None:
        metrics.CLOCK_OFFSET.set(verdict.offset_ms / 1000)
    metrics.CLOCK_IN_BOUNDS.set(1 if verdict.in_bounds else 0)
    was_in_bounds = previous is None or previous.in_bounds
    if was_in_bounds and not verdict.in_bounds:
        logger.error(
            "clock guard: this clock is %+.0f ms off %s (allowed %d ms); refusing time-dependent writes",
            verdict.offset_ms,
            verdict.reference,
            max_offset_ms(),
        )
    elif not was_in_bounds and verdict.in_bounds:
        logger.warning(
            "clock guard: clock back within %d ms of %s (%+.0f ms); serving writes again",
            max_offset_ms(),
            verdict.reference,
            verdict.offset_ms or 0.0,
        )
    elif previous is None:
        logger.info(
            "clock guard: this clock is %s ms off %s (allowed %d ms)",
            "?" if verdict.offset_ms is None else f"{verdict.offset_ms:+.0f}",
            verdict.reference or "no reference",
            max_offset_ms(),
        )
