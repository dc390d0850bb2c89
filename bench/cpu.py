"""CPU seconds used by each part of the stack during a scenario (from /proc), to show what saturates the
two cores: gunicorn workers, PostgreSQL backends, Redis, Celery, and the load generator (this process's
children, i.e. wrk, plus this process for the Python drivers)."""

from __future__ import annotations

import contextlib
import os
import resource
import time
from pathlib import Path
from typing import Any

from bench.stack import Stack

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int, with_children: bool = False) -> float:
    """utime + stime (+ cutime + cstime: the exited children it waited for, e.g. closed PostgreSQL
    backends or restarted workers, so they are not lost between two snapshots)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def _children(pid: int) -> list[int]:
    out: list[int] = []
    # A process can exit between being listed and being read (a PostgreSQL backend closing): skip it.
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                out += [int(p) for p in (task / "children").read_text().split()]
    return out


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def snapshot(stack: Stack) -> dict[str, float]:
    snap: dict[str, float] = {"t": time.monotonic()}
    groups: dict[str, list[int]] = {}
    if "gunicorn" in stack.procs:
        groups["gunicorn"] = _tree(stack.procs["gunicorn"].pid)
    if "celery" in stack.procs:
        groups["celery"] = _tree(stack.procs["celery"].pid)
    pm = stack.work / "pg" / "data" / "postmaster.pid"
    if pm.exists():
        groups["postgres"] = _tree(int(pm.read_text().split()[0]))
    if "redis" in stack.procs:
        groups["redis"] = [stack.procs["redis"].pid]
    for name, pids in groups.items():
        snap[name] = sum(_proc_cpu(p, with_children=(i == 0)) for i, p in enumerate(pids))
    # each gunicorn worker apart: keep-alive connections stay with the worker that accepted them, so a
    # run whose connections landed unevenly shows one worker near a core and the other idle
    if "gunicorn" in stack.procs:
        for pid in _children(stack.procs["gunicorn"].pid):
            snap[f"worker:{pid}"] = _proc_cpu(pid)
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    snap["machine"] = (user + nice + system + irq + softirq + steal) / TICK
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    snap["load_generator"] = children.ru_utime + children.ru_stime + me.ru_utime + me.ru_stime
    return snap


def cores_used(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Average cores used by each group between two snapshots, the whole machine's busy cores,
    `other`: the machine minus the stack and the load generator, and each gunicorn worker's cores."""
    elapsed = after["t"] - before["t"]
    out: dict[str, Any] = {}
    workers = []
    for k in after:
        if k != "t" and k in before and elapsed > 0:
            value = round((after[k] - before[k]) / elapsed, 2)
            if k.startswith("worker:"):
                workers.append(value)
            else:
                out[k] = value
    # what else ran on the box meanwhile (other people's tests, the kernel's share not charged to us)
    out["other"] = round(
        max(0.0, out.get("machine", 0) - sum(v for k, v in out.items() if k != "machine")), 2
    )
    out["gunicorn_workers"] = sorted(workers, reverse=True)
    return out


SERVER_GROUPS = ("gunicorn", "postgres", "redis", "celery")


def server_ms_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> float | None:
    """CPU milliseconds the server side (gunicorn, PostgreSQL, Redis, Celery) spent per request: unlike
    req/s, it hardly moves when other work shares the cores, so it shows a regression on a noisy box."""
    if requests <= 0:
        return None
    seconds = sum(after.get(k, 0.0) - before.get(k, 0.0) for k in SERVER_GROUPS)
    return round(seconds * 1000 / requests, 3)
