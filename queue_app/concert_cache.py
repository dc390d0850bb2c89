"""Which concert ids exist, cached in-process so issuing a token needs no SQL on the hot path.

Only positive answers are cached (for CACHE_SECONDS): a concert created a moment ago is found by the one
query a miss costs, and an unknown id costs exactly one primary-key lookup.
"""

from __future__ import annotations

import time

from concerts.models import Concert

CACHE_SECONDS = 45.0

_known: dict[int, float] = {}  # concert id -> monotonic time the answer goes stale


def concert_known(*, concert_id: int) -> bool:
    now = time.monotonic()
    stale_at = _known.get(concert_id)
    if stale_at is not None and stale_at > now:
        return True
    if Concert.objects.filter(pk=concert_id).exists():
        _known[concert_id] = now + CACHE_SECONDS
        return True
    _known.pop(concert_id, None)
    return False


def concert_cache_clear() -> None:
    _known.clear()
