"""Rate limits and login lockouts keep their counters in the cache (Redis in the full mode). When Redis
is away they fail open: logins, registrations and charges keep working through a Redis outage, at the
price of no rate limiting until it is back (a warning is logged each time)."""

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


def fail_open(default: R) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except RedisError:
                logger.warning("%s skipped: the cache is unreachable", func.__qualname__)
                return default

        return wrapper

    return decorate
