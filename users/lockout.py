"""Login brute-force protection: after LOGIN_MAX_FAILURES failed logins for one email, from any address,
within LOGIN_LOCKOUT_SECONDS, that email is locked for LOGIN_LOCKOUT_SECONDS: every login for it is
429 `throttled` with Retry-After, the right password included. A successful login clears the count.

State lives in Django's cache (Redis in the full mode, so every web process sees it): an atomic counter
per email whose window starts at the first failure, and a lock holding its end time (config.clock, so
tests can move time). Unknown emails count like known ones: the answers never tell whether an account
exists. Off when LOGIN_MAX_FAILURES is 0 or RATE_LIMITS_ENABLED is false (like every rate limit).
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.core.cache import cache

from config import clock
from config.api.fail_open import fail_open
from config.ratelimit import rate_limits_enabled
from users.errors import LoginLocked


def _enabled() -> bool:
    return rate_limits_enabled() and settings.LOGIN_MAX_FAILURES > 0


def _keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"login:failures:{digest}", f"login:locked:{digest}"


@fail_open(None)
def login_lockout_check(*, email: str) -> None:
    """Raise LoginLocked (429) while the email is locked."""
    if not _enabled():
        return
    _, lock_key = _keys(email)
    locked_until = cache.get(lock_key)
    if locked_until is None:
        return
    remaining = float(locked_until) - clock.now().timestamp()
    if remaining > 0:
        raise LoginLocked(retry_after=math.ceil(remaining))


@fail_open(0)
def login_failure_record(*, email: str) -> int:
    """Count one failed login for the email; lock it when the count reaches LOGIN_MAX_FAILURES.
    Returns the failures counted in the current window (0 when it has just locked, or when off)."""
    if not _enabled():
        return 0
    failures_key, lock_key = _keys(email)
    window = settings.LOGIN_LOCKOUT_SECONDS
    cache.add(failures_key, 0, timeout=window)  # starts the window at the first failure
    try:
        failures = cache.incr(failures_key)
    except ValueError:  # the window ran out between add and incr
        cache.set(failures_key, 1, timeout=window)
        failures = 1
    if failures < settings.LOGIN_MAX_FAILURES:
        return failures
    cache.set(lock_key, clock.now().timestamp() + window, timeout=window)
    cache.delete(failures_key)
    return 0


@fail_open(None)
def login_failures_reset(*, email: str) -> None:
    """A successful login: forget the failures counted so far."""
    if _enabled():
        cache.delete(_keys(email)[0])
