"""One shared Redis connection pool per process, with short timeouts so an outage answers 503 fast."""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL,
        decode_responses=True,
        socket_connect_timeout=0.5,
        socket_timeout=1.0,
        health_check_interval=30,
        max_connections=64,
    )
