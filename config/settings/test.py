"""The test suite. DATABASE_URL/REDIS_URL come from `make test` (real PostgreSQL and Redis);
without them the embedded smoke tests run on SQLite."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; never in production
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
# Invalidation runs on commit, which the per-test transaction never reaches: the cache is switched on
# only by the tests that exercise it (tests/concerts/test_seat_map_cache.py) with commits that happen.
SEAT_MAP_CACHE_ENABLED = False
# Each test client builds its own middleware chain: WhiteNoise looks static files up per request instead
# of indexing every file each time.
WHITENOISE_AUTOREFRESH = True
# The clock guard measures only where a test asks it to (tests/ops/test_clock_guard.py): every other test
# starts with a fresh "in bounds" verdict (tests/conftest.py) that never goes stale within a test, so no
# test's query count depends on when the guard last measured.
CLOCK_CHECK_SECONDS = 3600.0
