"""`make bench`: start the stack, seed, run every scenario, print a table, write bench/results.json.

    .venv/bin/python bench/run.py [--duration 12] [--only baseline,seat_map] [--repeat 3]
                                  [--out bench/results.json]

Everything runs on 127.0.0.1 and every load is bounded in time. Ratios are to the baseline measured in
the same run (the load generator shares the cores, so absolute rates say less than ratios).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.machine import busy_cores, log, wait_quiet  # noqa: E402
from bench.plan import ADMISSION_ROUND, EXACT, SCENARIOS, TARGETS, empty_result  # noqa: E402
from bench.runner import Runner  # noqa: E402

__all__ = ["SCENARIOS", "TARGETS", "Runner", "empty_result", "main", "table"]


def table(report: dict[str, object]) -> str:
    scenarios: dict[str, dict[str, object]] = report["scenarios"]  # type: ignore[assignment]
    lines = [
        f"{'scenario':<20} {'req/s':>8} {'cpu ms':>7} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5} {'ratio':>6} "
        f"{'adj.':>6} {'redis':>5} {'sql':>5} {'other':>5}  target",
        "-" * 121,
    ]
    for name, r in scenarios.items():
        if r.get("rps") is None:
            lines.append(f"{name:<20} {r.get('skipped', '')}")
            continue
        target = "zero 5xx"
        if name in TARGETS:
            target = f">= {TARGETS[name]}x, zero 5xx"
        elif name in EXACT:
            target = f"{EXACT[name]}={r.get(EXACT[name])}, zero 5xx"
        met = {True: "met", False: "NOT MET", None: "-"}[r.get("target_met")]  # type: ignore[index]
        ratio = r.get("ratio_to_baseline")
        other = (r.get("cores_used") or {}).get("other", "")  # type: ignore[union-attr]
        trips: dict[str, Any] = r.get("round_trips") or {}  # type: ignore[assignment]
        redis_calls = trips.get("redis_calls_per_request", "")
        sql = trips.get("sql_statements_per_request", "")
        lines.append(
            f"{name:<20} {r['rps']:>8} {r.get('server_cpu_ms_per_request') or '':>7} "
            f"{r['p50_ms']:>8} {r['p99_ms']:>8} {r['errors_5xx']:>5} "
            f"{ratio if ratio is not None else '':>6} {r.get('ratio_to_adjacent_baseline', ''):>6} "
            f"{redis_calls:>5} {sql:>5} {other:>5}  {target}: {met}"
        )
    qs = scenarios.get("queue_status", {})
    if qs.get("rps") is not None:
        paced: dict[str, Any] = qs.get("paced_70pct") or {}  # type: ignore[assignment]
        few: dict[str, Any] = qs.get("paced_70pct_16_connections") or {}  # type: ignore[assignment]
        lines += [
            "",
            f"Redis memory per waiting token: {qs.get('redis_bytes_per_waiting_token')} bytes",
            f"One admission round of {ADMISSION_ROUND} tokens: {qs.get('admission_round_1000_ms')} ms",
            f"Status poll p99 at 70% of peak ({paced.get('rps')} req/s, 64 connections): "
            f"{paced.get('p99_ms')} ms; "
            f"from 16 connections ({few.get('rps')} req/s): {few.get('p99_ms')} ms",
        ]
    lines += _spread_lines(scenarios) + _scaling_lines(scenarios.get("queue_scaling", {}))
    drawn: dict[str, Any] = report.get("draw") or {}  # type: ignore[assignment]
    if drawn:
        lines += [
            "",
            f"The opening's draw of {drawn['tokens']:,} pre-queued tokens (Redis): the first poll after the "
            f"opening drew them in {drawn['first_poll_with_draw_seconds']} s; {drawn['polls_meanwhile']} "
            f"other polls meanwhile, the slowest {drawn['slowest_poll_meanwhile_ms']} ms",
        ]
    lines += [
        "",
        "cpu ms = server CPU (gunicorn, PostgreSQL, Redis, Celery) per request, in milliseconds: steadier "
        "than req/s when other work shares the cores.",
        "redis = Redis calls per request (round trips: a script or a pipeline is one); sql = SQL statements "
        "per request (pg_stat_statements, top level, BEGIN/COMMIT included).",
        "ratio = to the median of every baseline run (first, last, and the short ones before each target "
        "scenario); adj. = to the short baseline run just before the scenario.",
        "other = cores used meanwhile by processes outside the benchmark (other work on the box); "
        "ratios are trustworthy only when it is near 0.",
    ]
    return "\n".join(lines)


def _spread_lines(scenarios: dict[str, dict[str, Any]]) -> list[str]:
    runs = max((int(r.get("repetitions") or 1) for r in scenarios.values()), default=1)
    if runs <= 1:
        return []
    lines = ["", f"Spread over {runs} repetitions (min-max; the table above shows medians):"]
    for name, r in scenarios.items():
        spread: dict[str, list[float]] = r.get("spread") or {}
        if not spread:
            continue
        parts = [f"{k} {lo}-{hi}" for k, (lo, hi) in spread.items()]
        lines.append(f"  {name:<16} " + ", ".join(parts))
    return lines


def _scaling_lines(r: dict[str, Any]) -> list[str]:
    sizes: list[dict[str, Any]] = r.get("sizes") or []
    if not sizes:
        return []
    lines = [
        "",
        "Status polls as the queue grows (one concert):",
        f"  {'waiting':>10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'redis':>5} {'script us':>9} "
        f"{'bytes/token':>11}",
    ]
    for s in sizes:
        lines.append(
            f"  {s['waiting_tokens']:>10,} {s['rps']:>8} {s['p50_ms']:>8} {s['p99_ms']:>8} "
            f"{s.get('redis_calls_per_request', ''):>5} {s.get('redis_script_usec_per_call', ''):>9} "
            f"{s.get('redis_bytes_per_waiting_token', ''):>11}"
        )
    lines.append(f"  req/s at the largest over the smallest: {r.get('rps_largest_over_smallest')}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=12, help="seconds per wrk scenario")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated subset of {','.join(SCENARIOS)},draw (the opening's draw)",
    )
    parser.add_argument("--out", default=str(REPO / "bench" / "results.json"))
    parser.add_argument("--no-second-baseline", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every scenario N times (one stack); report medians and min-max, ratios per repetition",
    )
    parser.add_argument(
        "--gunicorn-workers", type=int, default=0, help="experiments only (default: one per core)"
    )
    parser.add_argument("--gunicorn-threads", type=int, default=0, help="experiments only (default: 4)")
    parser.add_argument(
        "--profile-wall",
        action="store_true",
        help="profile every thread's wall time (default: only the GIL holder)",
    )
    parser.add_argument(
        "--no-adjacent-baselines",
        action="store_true",
        help="skip the short baseline before each target scenario",
    )
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=0,
        help="wait up to this many seconds for other work on the box to stop",
    )
    parser.add_argument(
        "--profile",
        default="",
        help="scenarios to profile with py-spy on one gunicorn worker (or 'all'); "
        "summaries go to bench/results/profiles.json, not into the results (profiling slows the worker)",
    )
    args = parser.parse_args(argv)
    busy_before = wait_quiet(args.wait_quiet) if args.wait_quiet else busy_cores()
    if busy_before > 0.3:
        log(f"warning: other work keeps {busy_before} cores busy; ratios will be noisy")
    started = time.perf_counter()
    runner = Runner(args)
    try:
        runner.setup()
        runner.run()
        report = runner.finish()
    finally:
        logs = REPO / "bench" / "results" / "logs"
        shutil.rmtree(logs, ignore_errors=True)
        if (runner.stack.work / "logs").exists():
            shutil.copytree(runner.stack.work / "logs", logs)
        runner.stack.stop()
    if runner.profiles:
        (REPO / "bench" / "results" / "profiles.json").write_text(
            json.dumps(runner.profiles, indent=2) + "\n"
        )
    report["machine"]["busy_cores_before_start"] = busy_before  # type: ignore[index]
    report["machine"]["bench_wall_seconds"] = round(time.perf_counter() - started, 1)  # type: ignore[index]
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(report))
    print(f"\nwrote {args.out} in {report['machine']['bench_wall_seconds']} s")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
