"""Per-process memos bounded the simple way: emptied when full, no age or recency tracked.

For hot-path lookups whose miss costs one recomputation (a verified token, a seat-map body): a full
memo is cleared rather than pruned, which keeps every hit a plain dict read."""

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def memo_put(memo: dict[K, V], key: K, value: V, *, limit: int) -> None:
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
