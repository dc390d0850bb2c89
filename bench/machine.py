"""The machine the benchmark runs on: progress lines, how busy other work keeps the cores, and the facts
recorded with the results (CPU, versions, commit)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import time
from pathlib import Path

from bench.stack import Stack

REPO = Path(__file__).resolve().parent.parent


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def busy_cores(seconds: float = 2.0) -> float:
    """Cores the whole machine kept busy over a short window (before the stack starts: other work)."""

    def sample() -> tuple[int, int]:
        f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        return f[0] + f[1] + f[2] + f[5] + f[6] + f[7], f[3] + f[4]

    b0, i0 = sample()
    time.sleep(seconds)
    b1, i1 = sample()
    total = (b1 - b0) + (i1 - i0)
    return round((os.cpu_count() or 1) * (b1 - b0) / total, 2) if total else 0.0


def wait_quiet(limit_s: int, threshold: float = 0.3, samples: int = 5) -> float:
    """Wait up to `limit_s` for the machine to be quiet: `samples` windows in a row (2 s each) in which
    other work keeps fewer than `threshold` cores busy."""
    deadline = time.monotonic() + limit_s
    quiet = 0
    busy = busy_cores()
    while time.monotonic() < deadline:
        quiet = quiet + 1 if busy <= threshold else 0
        if quiet >= samples:
            break
        if quiet == 0:
            log(f"machine busy ({busy} cores used by other work); waiting for it to be quiet")
            time.sleep(5)
        busy = busy_cores()
    return busy


def machine_info(stack: Stack) -> dict[str, object]:
    from django.db import connection

    from config.redis import get_redis

    cpu_model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    connection.close()
    redis_version = get_redis().info("server")["redis_version"]
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    import django
    import gunicorn

    return {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "postgres": pg_version,
        "redis": redis_version,
        "wrk": wrk_version.split("[")[0].strip().removeprefix("wrk "),
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "git_commit": commit + ("+dirty" if dirty else ""),
        "server": f"gunicorn --worker-class gthread --workers {stack.web_workers} "
        f"--threads {stack.web_threads}, "
        "config.settings.production, DEBUG off, access log off, RATE_LIMITS_ENABLED=false",
        "load": "wrk -t2 -c64 (Lua: bench/wrk/lines.lua) on the same cores; Python asyncio driver for "
        "contention and flow",
    }
