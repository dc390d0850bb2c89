"""Loaded (through PYTHONPATH) only by the chaos stack's skewed web node, which runs under libfaketime
with DONT_FAKE_MONOTONIC=1: its wall clock is shifted, its monotonic clock is the real one.

libfaketime 0.9.10 (Debian 12) answers EINVAL to clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), which
CPython 3.11's time.sleep uses; gunicorn's master sleeps while it spawns workers and would die of it. A
sleep on select() (a relative timeout, which libfaketime passes through) does the same job."""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
