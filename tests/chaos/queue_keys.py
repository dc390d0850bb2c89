"""The Redis queue's key names as the chaos checks read them (queue_app/backends/redis_scripts.py is the
source): every key of one concert carries the hash tag `{<concert_id>}`, so one concert lives in one
Redis Cluster slot and its structure can be checked by one script on one node."""

from __future__ import annotations

from redis.crc import key_slot


def ckey(concert_id: int, name: str) -> str:
    return f"q:{{{concert_id}}}:{name}"


def wait_key(concert_id: int) -> str:
    return ckey(concert_id, "wait")


def active_key(concert_id: int) -> str:
    return ckey(concert_id, "active")


def token_key(concert_id: int, token: str) -> str:
    return ckey(concert_id, f"t:{token}")


def slot_of(concert_id: int) -> int:
    """The cluster slot holding the concert's whole queue."""
    return int(key_slot(ckey(concert_id, "wait").encode()))
