"""Round trips per request during a scenario: PostgreSQL statements (pg_stat_statements, top level only,
utility statements such as BEGIN/COMMIT included: each is a round trip from Django; the foreign-key
checks PostgreSQL runs inside an INSERT are counted apart) and Redis calls: round trips from
INFO stats `total_reads_processed` (one read event per request on a kept-alive connection: a script, a
pipeline or a MULTI/EXEC block is one call), and commands by name from INFO commandstats (commands run
inside a Lua script are counted under their own names too, so read `evalsha` as the calls and the rest
as the scripts' work; `redis_script_usec_per_call` is the time inside Redis per script call).
Optional py-spy profiles of one worker, sampling only the thread holding the GIL (`--gil`): where the
CPU goes, not where threads wait."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any


def enable_pg_stat_statements() -> bool:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return True
    except Exception:
        return False


def _pg_reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_statements_reset()")


def _pg_read() -> list[tuple[str, int, float]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query, calls, total_exec_time FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid "
            "WHERE d.datname = current_database() AND query NOT ILIKE '%pg_stat_statements%' "
            "ORDER BY calls DESC"
        )
        return [(q, int(c), float(t)) for q, c, t in cursor.fetchall()]


def _pg_seq_scans() -> Counter[str]:
    """Sequential scans and the rows they read, per table of the project (a lookup planned as a scan
    shows here long before it shows as a slow request)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, seq_scan, seq_tup_read FROM pg_stat_user_tables")
        out: Counter[str] = Counter()
        for name, scans, rows in cursor.fetchall():
            out[name] = int(scans or 0)
            out["rows:" + name] = int(rows or 0)
        return out


def _is_fk_check(query: str) -> bool:
    # Statements run inside a PL/pgSQL function are normalized without the constant ("SELECT 1").
    fk_shape = "FROM ONLY" in query and "FOR KEY SHARE OF x" in query
    return query.startswith(("SELECT $", "SELECT 1 ")) and fk_shape


def _redis_stats() -> Counter[str]:
    """Commands by name, `usec:<name>` (time inside Redis) and `reads` (client read events, which the
    probe's own INFO calls add two to)."""
    from config.redis import get_redis

    client = get_redis()
    stats = client.info("commandstats")
    out = Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})
    out.update({"usec:" + k.removeprefix("cmdstat_"): int(v["usec"]) for k, v in stats.items()})
    out["reads"] = int(client.info("stats")["total_reads_processed"])
    return out


class RoundTrips:
    def __init__(self, pg: bool) -> None:
        self.pg = pg
        self.redis_before: Counter[str] = Counter()
        self.seq_before: Counter[str] = Counter()

    def start(self) -> None:
        from django.db import connection

        if self.pg:
            _pg_reset()
            self.seq_before = _pg_seq_scans()
        connection.close()
        self.redis_before = _redis_stats()

    def stop(self, requests: int) -> dict[str, Any]:
        from django.db import connection

        redis_delta = _redis_stats() - self.redis_before
        redis_delta.pop("info", None)
        reads = max(0, redis_delta.pop("reads", 0) - 2)  # the probe's two INFO calls after the start
        usec = {k[5:]: redis_delta.pop(k) for k in list(redis_delta) if k.startswith("usec:")}
        out: dict[str, Any] = {}
        if requests <= 0:
            return out
        out["redis_calls_per_request"] = round(reads / requests, 2)
        scripts = redis_delta.get("evalsha", 0) + redis_delta.get("eval", 0)
        if scripts:
            out["redis_script_usec_per_call"] = round(
                (usec.get("evalsha", 0) + usec.get("eval", 0)) / scripts, 1
            )
        if self.pg:
            rows = _pg_read()
            scans = _pg_seq_scans() - self.seq_before
            connection.close()
            total = sum(c for _, c, _ in rows)
            # Foreign-key checks run by PostgreSQL's RI triggers inside a statement: counted, not round trips.
            fk = sum(c for q, c, _ in rows if _is_fk_check(q))
            out["db_round_trips_per_request"] = round((total - fk) / requests, 2)
            out["sql_statements_per_request"] = out["db_round_trips_per_request"]
            out["db_fk_checks_per_request"] = round(fk / requests, 2)
            out["db_top_statements"] = [
                {
                    "per_request": round(c / requests, 2),
                    "mean_exec_ms": round(t / c, 3) if c else None,  # inside PostgreSQL, per call
                    "query": " ".join(q.split())[:160],
                }
                for q, c, t in rows[:20]
                if c / requests >= 0.01
            ]
            # Scans of at least one per hundred requests; rows read per scan say whether they matter.
            out["db_seq_scans_per_request"] = {
                name: {
                    "per_request": round(n / requests, 2),
                    "rows_per_scan": round(scans.get("rows:" + name, 0) / n, 1),
                }
                for name, n in scans.most_common()
                if not name.startswith("rows:") and n / requests >= 0.01
            }
        out["redis_commands_per_request"] = {
            k: round(v / requests, 2) for k, v in redis_delta.most_common(8) if v / requests >= 0.01
        }
        return out


def py_spy() -> str | None:
    for cand in (os.environ.get("PY_SPY"), shutil.which("py-spy"), "/tmp/bench-tools/bin/py-spy"):
        if cand and Path(cand).exists():
            return cand
    return None


def start_profile(pid: int, seconds: int, out: Path, *, gil: bool = True) -> subprocess.Popen[bytes] | None:
    exe = py_spy()
    if exe is None:
        return None
    env = {**os.environ, "PYTHONPATH": "/tmp/bench-tools"}
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--format",
            "raw",
            *(["--gil"] if gil else []),
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )


def summarize_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """From py-spy's collapsed stacks: the share of samples in which each function is on the stack
    (inclusive) and at the top (self), for this repo's code and the libraries."""
    inclusive: Counter[str] = Counter()
    self_: Counter[str] = Counter()
    total = 0
    if not path.exists():
        return {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # py-spy's own messages share the file
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        seen = set()
        for f in frames:
            name = _short(f)
            if name not in seen:
                inclusive[name] += n
                seen.add(name)
        self_[_short(frames[-1])] += n
    if not total:
        return {}
    return {
        "samples": total,
        "inclusive_pct": {k: round(100 * v / total, 1) for k, v in inclusive.most_common(top)},
        "self_pct": {k: round(100 * v / total, 1) for k, v in self_.most_common(top)},
    }


def _short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py)" with the package folder kept for context
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    parts = path.split("/")
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1 :]
    elif "main" in parts:
        parts = parts[parts.index("main") + 1 :]
    return f"{name} ({'/'.join(parts[-2:])})"
