"""`make bench`: start the stack, seed, run every scenario, print a table, write bench/results.json.

    .venv/bin/python bench/run.py [--duration 12] [--only baseline,seat_map] [--out bench/results.json]

Everything runs on 127.0.0.1 and every load is bounded in time. Ratios are to the baseline measured in
the same run (the load generator shares the cores, so absolute rates say less than ratios).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import cpu, probes, queueseed  # noqa: E402
from bench.context import SKIP_404, Context  # noqa: E402
from bench.stack import Stack, ensure_binaries  # noqa: E402

SCENARIOS = [
    "baseline",
    "queue_status",
    "token_issue",
    "seat_map",
    "hold_distinct",
    "hold_contention",
    "flow",
]
TARGETS = {"queue_status": 0.5, "token_issue": 0.4, "seat_map": 0.3, "hold_distinct": 0.2}
EXACT = {"hold_contention": "exactly_one_winner", "flow": "invariants_hold"}

# Data set sizes: a sale-day crowd (20 concerts, 100k waiting tokens, 50k new fans).
CONCERTS, SCHEDULES, SEATS = 20, 10, 1000
N_WAITING = 100_000
N_ISSUE = 50_000  # fresh users for token_issue (more than ~12 s at the best rate we expect)
N_HOLD = 12_500  # hold users x 4 holds = 50,000 distinct seats
N_CONTENTION = 1_000
N_FLOW = 2_000
ADMISSION_ROUND = 1_000


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def empty_result(reason: str) -> dict[str, object]:
    return {
        "skipped": reason,
        "rps": None,
        "p50_ms": None,
        "p99_ms": None,
        "errors_5xx": None,
        "ratio_to_baseline": None,
    }


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


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.only = set(args.only.split(",")) if args.only else set(SCENARIOS)
        self.results: dict[str, dict[str, object]] = {}
        self.timings: dict[str, float] = {}
        self.stack = Stack()
        if args.gunicorn_workers:
            self.stack.web_workers = args.gunicorn_workers
        if args.gunicorn_threads:
            self.stack.web_threads = args.gunicorn_threads
        self.ctx: Context | None = None
        self.redis_bytes_per_token: float | None = None
        self.profile = set(args.profile.split(",")) if args.profile else set()
        self.profiles: dict[str, object] = {}
        self.adjacent_runs: list[float] = []
        self.pg_stats = False

    def step(self, name: str, fn: Callable[[], object]) -> object:
        log(f"{name} ...")
        t0 = time.perf_counter()
        out = fn()
        self.timings[name] = round(time.perf_counter() - t0, 2)
        log(f"{name}: {self.timings[name]:.1f}s")
        return out

    # --- set-up ------------------------------------------------------------------------------------
    def setup(self) -> None:
        self.step("ensure wrk/postgres/redis", ensure_binaries)
        self.step("start postgres+redis", self.stack.start_services)
        os.environ.update(self.stack.app_env())
        import django

        django.setup()
        from django.core.management import call_command

        self.step("migrate", lambda: call_command("migrate", verbosity=0, interactive=False))
        from bench import seed

        catalog = self.step(
            "seed catalog", lambda: seed.seed_catalog(concerts=CONCERTS, schedules=SCHEDULES, seats=SEATS)
        )
        data_dir = REPO / "bench" / "results" / "data"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        ctx = Context(stack=self.stack, data_dir=data_dir, catalog=catalog, duration=self.args.duration)  # type: ignore[arg-type]
        groups = {
            "queue": N_WAITING,
            "issue": N_ISSUE,
            "hold": N_HOLD,
            "contention": N_CONTENTION,
            "flow": N_FLOW,
        }

        def users() -> None:
            for group, n in groups.items():
                ctx.users[group] = seed.seed_users(prefix=f"b{group}", count=n)

        self.step("seed users (COPY)", users)

        def jwts() -> None:
            for group in ("issue", "hold", "contention", "flow"):
                ctx.jwts[group] = seed.mint_access_tokens(ctx.users[group])

        self.step("mint JWT access tokens", jwts)
        self.step("analyze", seed.analyze)
        self.pg_stats = probes.enable_pg_stat_statements()
        from django.db import connection

        connection.close()
        self.step("start gunicorn + celery", self.stack.start_app)
        self.ctx = ctx

    # --- scenarios ---------------------------------------------------------------------------------
    def measure(self, name: str, fn: Callable[[], dict[str, object]]) -> dict[str, object]:
        trips = probes.RoundTrips(pg=self.pg_stats)
        trips.start()
        spy = None
        key = name.split(" ")[0]
        if key in self.profile or "all" in self.profile:
            pid = self.stack.web_worker_pids()[0]
            out = REPO / "bench" / "results" / f"profile-{name.replace(' ', '_').replace('%', 'pct')}.txt"
            spy = probes.start_profile(pid, self.args.duration + 30, out, gil=not self.args.profile_wall)
            if spy is None:
                log("py-spy not found (pip install py-spy, or PY_SPY=/path/to/py-spy): no profile")
        before = cpu.snapshot(self.stack)
        t0 = time.perf_counter()
        result = fn()
        result["cores_used"] = cpu.cores_used(before, cpu.snapshot(self.stack))
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
            summary = probes.summarize_profile(out)
            self.profiles[name] = summary
            log(f"profile of {name} (one worker): {out}")
        result["round_trips"] = trips.stop(int(result.get("requests") or 0))  # type: ignore[call-overload]
        log(
            f"{name}: {time.perf_counter() - t0:.1f}s, {result.get('rps')} req/s, "
            f"p99 {result.get('p99_ms')} ms, "
            f"5xx {result.get('errors_5xx')}"
        )
        return result

    def scenario(
        self,
        name: str,
        fn: Callable[[], dict[str, object]],
        needs: list[tuple[str, str]],
        *,
        queue: bool = False,
        prepare: Callable[[], None] | None = None,
        after: Callable[[dict[str, object]], None] | None = None,
    ) -> None:
        """Probe the endpoints, prepare the data (untimed), measure `fn`, then `after` adds extra figures."""
        if name not in self.only:
            return
        assert self.ctx is not None
        missing = [f"{m} {p}" for m, p in needs if not self.ctx.endpoint_available(m, p)]
        if missing:
            log(f"{name}: {SKIP_404} ({', '.join(missing)})")
            self.results[name] = empty_result(SKIP_404) | {"missing": missing}
            return
        if queue and (reason := queueseed.available()):
            log(f"{name}: skipped: {reason}")
            self.results[name] = empty_result(f"skipped: {reason}")
            return
        try:
            if prepare:
                prepare()
            adjacent = self.adjacent_baseline() if name in TARGETS else None
            self.results[name] = result = self.measure(name, fn)
            if adjacent:
                # a short baseline just before: shows whether the machine changed under this scenario
                result["adjacent_baseline_rps"] = adjacent
                result["ratio_to_adjacent_baseline"] = round(float(result["rps"]) / adjacent, 3)  # type: ignore[arg-type]
            if after:
                after(result)
        except Exception as exc:
            traceback.print_exc()
            self.results[name] = empty_result(f"failed: {type(exc).__name__}: {str(exc)[:300]}")

    def adjacent_baseline(self) -> float | None:
        from bench.scenarios import http_load

        if self.args.no_adjacent_baselines or self.ctx is None:
            return None
        res = http_load.baseline(self.ctx, duration=max(5, self.args.duration // 2))
        self.adjacent_runs.append(float(res["rps"]))  # type: ignore[arg-type]
        return float(res["rps"])  # type: ignore[arg-type]

    def run(self) -> None:
        from bench.scenarios import contention, flow, http_load

        ctx = self.ctx
        assert ctx is not None
        self.step("warm up", lambda: http_load.warm_up(ctx))
        self.scenario("baseline", lambda: http_load.baseline(ctx), [])
        first_schedule = ctx.catalog.schedules[ctx.catalog.concert_ids[0]][0]
        self.scenario(
            "seat_map",
            lambda: http_load.seat_map(ctx),
            [("GET", f"/api/v1/schedules/{first_schedule}/seats")],
        )
        self.scenario(
            "queue_status",
            lambda: http_load.queue_status(ctx),
            [("GET", "/api/v1/queue/status")],
            queue=True,
            prepare=self.seed_waiting,
            after=self.queue_status_extras,
        )
        self.scenario("token_issue", lambda: http_load.token_issue(ctx), [("POST", "/api/v1/queue/tokens")])
        booking = [("POST", "/api/v1/queue/tokens"), ("POST", "/api/v1/reservations")]
        self.scenario(
            "hold_distinct",
            lambda: http_load.hold_distinct(ctx),
            booking,
            queue=True,
            prepare=lambda: self._activate("hold", ctx.hold_concert_of),
        )
        self.scenario(
            "hold_contention",
            lambda: contention.run(ctx),
            booking,
            queue=True,
            prepare=lambda: self._activate("contention", lambda i: ctx.concert("contention")),
        )
        self.scenario(
            "flow",
            lambda: flow.run(ctx),
            [
                *booking,
                ("GET", "/api/v1/queue/status"),
                ("POST", "/api/v1/points/charge"),
                ("POST", "/api/v1/payments"),
            ],
            queue=True,
        )
        if "baseline" in self.only and "rps" in self.results.get("baseline", {}):
            first = self.results["baseline"]
            runs = [float(first["rps"])]  # type: ignore[arg-type]
            p99s = [first["p99_ms"]]
            if not self.args.no_second_baseline:
                # Again at the end: the runs show the drift of the machine during the benchmark.
                again = self.measure("baseline (again)", lambda: http_load.baseline(ctx))
                runs.append(float(again["rps"]))  # type: ignore[arg-type]
                p99s.append(again["p99_ms"])
            # The run's baseline is the median of every baseline measured in it (first, the short ones
            # before each target scenario, last): one disturbed run cannot move every ratio.
            every = runs + self.adjacent_runs
            first["runs_rps"] = runs
            first["adjacent_runs_rps"] = self.adjacent_runs
            first["rps_first_run"] = runs[0]
            first["rps"] = round(statistics.median(every), 1)
            first["p99_ms_runs"] = p99s

    def seed_waiting(self) -> None:
        from config.redis import get_redis

        ctx = self.ctx
        assert ctx is not None
        r = get_redis()
        mem_before = r.info("memory")["used_memory"]
        ctx.queue_tokens["queue"] = self.step(
            f"issue {N_WAITING} waiting tokens in-process",
            lambda: queueseed.issue_waiting(concert_id=ctx.concert("queue"), user_ids=ctx.users["queue"]),
        )
        self.redis_bytes_per_token = round((r.info("memory")["used_memory"] - mem_before) / N_WAITING, 1)

    def queue_status_extras(self, result: dict[str, object]) -> None:
        """Redis memory per waiting token, p99 of the poll at 70% of peak, one admission round of 1,000."""
        from bench.scenarios import http_load

        ctx = self.ctx
        assert ctx is not None
        result["redis_bytes_per_waiting_token"] = self.redis_bytes_per_token
        peak = float(result["rps"])  # type: ignore[arg-type]
        paced = self.measure(
            "queue_status at 70% of peak", lambda: http_load.queue_status(ctx, rate=0.7 * peak)
        )
        result["p99_ms_at_70pct_of_peak"] = paced["p99_ms"]
        keys = ("rps", "p50_ms", "p90_ms", "p99_ms", "errors_5xx", "wrk", "cores_used")
        result["paced_70pct"] = {k: paced[k] for k in keys}
        # The same rate from 16 connections: with 64 mostly idle keep-alive connections gunicorn's gthread
        # main loop wakes once per request (poller -> thread pool -> poller), which costs latency by itself.
        few = self.measure(
            "queue_status at 70% of peak, 16 connections",
            lambda: http_load.queue_status(ctx, rate=0.7 * peak, connections=16),
        )
        result["paced_70pct_16_connections"] = {k: few[k] for k in keys}
        rounds = []
        for _ in range(3):
            t0 = time.perf_counter()
            admitted = queueseed.admit(concert_id=ctx.concert("queue"), count=ADMISSION_ROUND)
            rounds.append((round((time.perf_counter() - t0) * 1000, 1), admitted))
        from django.db import connection

        connection.close()
        result["admission_round_1000_ms"] = sorted(ms for ms, _ in rounds)[1]  # the median of three
        result["admission_rounds"] = [{"ms": ms, "admitted": n} for ms, n in rounds]

    def _activate(self, group: str, concert_of: Callable[[int], int]) -> None:
        ctx = self.ctx
        assert ctx is not None
        by_concert: dict[int, list[int]] = {}
        for i, _ in enumerate(ctx.users[group]):
            by_concert.setdefault(concert_of(i), []).append(i)
        tokens: list[str] = [""] * len(ctx.users[group])

        def go() -> None:
            for concert, idx in by_concert.items():
                toks = queueseed.issue_active(concert_id=concert, user_ids=[ctx.users[group][i] for i in idx])
                for i, t in zip(idx, toks, strict=True):
                    tokens[i] = t
            from django.db import connection

            connection.close()

        self.step(f"activate {len(tokens)} {group} tokens in-process", go)
        ctx.queue_tokens[group] = tokens

    # --- report ------------------------------------------------------------------------------------
    def finish(self) -> dict[str, object]:
        base = self.results.get("baseline", {}).get("rps")
        for name in SCENARIOS:
            res = self.results.setdefault(name, empty_result("skipped: not selected (--only)"))
            if base and res.get("rps") is not None:
                res["ratio_to_baseline"] = round(float(res["rps"]) / float(base), 3)  # type: ignore[arg-type]
            else:
                res.setdefault("ratio_to_baseline", None)
            if name in TARGETS:
                res["target_ratio"] = TARGETS[name]
            res["target_met"] = self.target_met(name, res)
        scenarios = {name: self.results[name] for name in SCENARIOS}
        scenarios["baseline"]["harness_timings_s"] = self.timings
        return {"machine": machine_info(self.stack), "scenarios": scenarios}

    @staticmethod
    def target_met(name: str, res: dict[str, object]) -> bool | None:
        if res.get("rps") is None:
            return None
        ok = res.get("errors_5xx") == 0
        if name in TARGETS:
            ok = (
                ok
                and res["ratio_to_baseline"] is not None
                and float(res["ratio_to_baseline"]) >= TARGETS[name]
            )  # type: ignore[arg-type]
        if name in EXACT:
            ok = ok and res.get(EXACT[name]) is True
        return bool(ok)


def table(report: dict[str, object]) -> str:
    scenarios: dict[str, dict[str, object]] = report["scenarios"]  # type: ignore[assignment]
    lines = [
        f"{'scenario':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'5xx':>5} {'ratio':>6} "
        f"{'adj.':>6} {'other':>5}  target",
        "-" * 97,
    ]
    for name, r in scenarios.items():
        if r.get("rps") is None:
            lines.append(f"{name:<16} {r.get('skipped', '')}")
            continue
        target = "zero 5xx"
        if name in TARGETS:
            target = f">= {TARGETS[name]}x, zero 5xx"
        elif name in EXACT:
            target = f"{EXACT[name]}={r.get(EXACT[name])}, zero 5xx"
        met = {True: "met", False: "NOT MET", None: "-"}[r.get("target_met")]  # type: ignore[index]
        ratio = r.get("ratio_to_baseline")
        other = (r.get("cores_used") or {}).get("other", "")  # type: ignore[union-attr]
        lines.append(
            f"{name:<16} {r['rps']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['errors_5xx']:>5} "
            f"{ratio if ratio is not None else '':>6} {r.get('ratio_to_adjacent_baseline', ''):>6} "
            f"{other:>5}  {target}: {met}"
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
    lines += [
        "",
        "ratio = to the median of every baseline run (first, last, and the short ones before each target "
        "scenario); adj. = to the short baseline run just before the scenario.",
        "other = cores used meanwhile by processes outside the benchmark (other work on the box); "
        "ratios are trustworthy only when it is near 0.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=12, help="seconds per wrk scenario")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--out", default=str(REPO / "bench" / "results.json"))
    parser.add_argument("--no-second-baseline", action="store_true")
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
