"""Login brute-force protection: after LOGIN_MAX_FAILURES failed logins for one email, from any address,
within LOGIN_LOCKOUT_SECONDS, that email is locked for LOGIN_LOCKOUT_SECONDS: every login for it is
429 `throttled` with Retry-After, the right password included. A successful login clears the count.

State lives in Django's cache (Redis in the full mode, so every web process sees it): an atomic counter
per email whose window starts at the first failure, and a lock holding its end time (config.clock, so
tests can move time). Unknown emails count like known ones: the answers never tell whether an account
exists. Off when LOGIN_MAX_FAILURES is 0 or RATE_LIMITS_ENABLED is false (like every rate limit).

Both doors use it: the API's `POST /auth/token` and the back office's login (users/staff_login.py). Each
lock taken is also recorded as a LoginLock row, so operators see it in admin and can clear it
(login_lock_clear), which drops the lock and the failures counted so far.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from config import clock
from config.api.fail_open import fail_open
from config.ratelimit import rate_limits_enabled
from users.errors import LoginLocked
from users.models import LoginLock, User

# Records of locks that ended this long ago are deleted when a new lock is recorded.
LOCK_RECORDS_KEPT = timedelta(days=30)


def _enabled() -> bool:
    return rate_limits_enabled() and settings.LOGIN_MAX_FAILURES > 0


def _normalized(email: str) -> str:
    return email.strip().lower()


def _keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(_normalized(email).encode()).hexdigest()
    return f"login:failures:{digest}", f"login:locked:{digest}"


@fail_open(0.0)
def login_lock_remaining(*, email: str) -> float:
    """Seconds until the email's lock ends; 0 when it is not locked (or the lockout is off)."""
    if not _enabled():
        return 0.0
    locked_until = cache.get(_keys(email)[1])
    if locked_until is None:
        return 0.0
    return max(0.0, float(locked_until) - clock.now().timestamp())


def login_lockout_check(*, email: str) -> None:
    """Raise LoginLocked (429) while the email is locked."""
    remaining = login_lock_remaining(email=email)
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
    now = clock.now()
    cache.set(lock_key, now.timestamp() + window, timeout=window)
    cache.delete(failures_key)
    _lock_record(email=email, now=now, seconds=window)
    return 0


def _lock_record(*, email: str, now: datetime, seconds: int) -> None:
    LoginLock.objects.filter(locked_until__lt=now - LOCK_RECORDS_KEPT).delete()
    LoginLock.objects.create(
        email=_normalized(email)[:254], locked_at=now, locked_until=now + timedelta(seconds=seconds)
    )


@fail_open(None)
def login_failures_reset(*, email: str) -> None:
    """A successful login: forget the failures counted so far."""
    if _enabled():
        cache.delete(_keys(email)[0])


def login_lock_clear(*, email: str, by: User) -> bool:
    """An operator unlocks the email now: its lock and the failures counted so far are dropped, and its
    records still in force are marked cleared by `by`. Returns whether a lock was in force."""
    was_locked = login_lock_remaining(email=email) > 0
    for key in _keys(email):  # one by one: on a Redis Cluster the two keys sit in different slots
        cache.delete(key)
    now = clock.now()
    LoginLock.objects.filter(email=_normalized(email), cleared_at__isnull=True, locked_until__gt=now).update(
        cleared_at=now, cleared_by=by
    )
    return was_locked
