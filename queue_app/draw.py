"""The verifiable draw of a sale's pre-queue: one rule, used by both backends and by anyone checking.

When a sale is scheduled, a fresh `draw_seed` is made and its commitment, the hex SHA-256 of the UTF-8
seed, is published at once; the seed itself is published once the draw is done. The pre-queue's tokens
are then ordered by the ascending hex SHA-256 of the UTF-8 string f"{draw_seed}:{queue_number}": anyone
holding the seed and the queue numbers can recompute the order.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

SEED_BYTES = 32


def new_seed() -> str:
    return secrets.token_hex(SEED_BYTES)


def commitment(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def draw_key(seed: str, queue_number: int) -> str:
    return hashlib.sha256(f"{seed}:{queue_number}".encode()).hexdigest()


def draw_order(*, seed: str, queue_numbers: Iterable[int]) -> list[int]:
    """The queue numbers in drawn order (first = admitted first)."""
    return sorted(queue_numbers, key=lambda number: draw_key(seed, number))
