"""The benchmark run: set-up (stack, seed, users), every scenario measured with its baselines, and the
results with their targets."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import time
import traceback
from collections.abc import Callable

from bench import cpu, probes, queueseed
from bench.context import SKIP_404, Context
from bench.machine import REPO, log, machine_info
from bench.plan import (
    ADMISSION_ROUND,
    CONCERTS,
    EXACT,
    N_CONTENTION,
    N_DRAW,
    N_FLOW,
    N_HOLD,
    N_ISSUE,
    N_ORDER,
    N_WAITING,
    ORDER_CONCERTS_PER_REP,
    SCENARIOS,
    SCHEDULES,
    SEATS,
    TARGETS,
    empty_result,
)
from bench.stack import Stack, ensure_binaries


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.only = set(args.only.split(",")) if args.only else {*SCENARIOS, "draw"}
        self.draw: dict[str, object] | None = None
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
        self.reps = max(1, int(getattr(args, "repeat", 1) or 1))
        self.rep_results: list[dict[str, dict[str, object]]] = []
        self.scaling_seeded: dict[int, dict[str, object]] = {}

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
            "seed catalog",
            lambda: seed.seed_catalog(
                concerts=CONCERTS + ORDER_CONCERTS_PER_REP * self.reps, schedules=SCHEDULES, seats=SEATS
            ),
        )
        data_dir = REPO / "bench" / "results" / "data"
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        ctx = Context(
            stack=self.stack,
            data_dir=data_dir,
            catalog=catalog,  # type: ignore[arg-type]
            duration=self.args.duration,
            reps=self.reps,
        )
        # Each repetition takes its own slice of the groups that use their users up (bench/context.py);
        # the hold users are plenty for several (each takes 4 of 10,000 seats a concert).
        reps = self.reps
        groups = {
            "queue": N_WAITING,
            "issue": N_ISSUE * reps,
            "hold": N_HOLD,
            "contention": N_CONTENTION * reps,
            "order": N_ORDER * reps,
            "flow": N_FLOW * reps,
        }

        def users() -> None:
            for group, n in groups.items():
                ctx.users_all[group] = seed.seed_users(prefix=f"b{group}", count=n)

        self.step("seed users (COPY)", users)

        def jwts() -> None:
            for group in ("issue", "hold", "contention", "order", "flow"):
                ctx.jwts_all[group] = seed.mint_access_tokens(ctx.users_all[group])

        self.step("mint JWT access tokens", jwts)
        self.step("analyze", seed.analyze)
        self.pg_stats = probes.enable_pg_stat_statements()
        from django.db import connection

        connection.close()
        self.step("start gunicorn + celery", self.stack.start_app)
        ctx.use_rep(0)
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
        after = cpu.snapshot(self.stack)
        result["cores_used"] = cpu.cores_used(before, after)
        result["server_cpu_ms_per_request"] = cpu.server_ms_per_request(
            before,
            after,
            int(result.get("requests") or 0),  # type: ignore[call-overload]
        )
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
        from bench.scenarios import http_load

        ctx = self.ctx
        assert ctx is not None
        self.step("warm up", lambda: http_load.warm_up(ctx))
        for rep in range(self.reps):
            if self.reps > 1:
                log(f"--- repetition {rep + 1} of {self.reps} ---")
            ctx.use_rep(rep)
            self.results = {}
            self.adjacent_runs = []
            self.run_once()
            self.rep_results.append(self.finish_rep())
        if "draw" in self.only:
            from bench import draw

            self.draw = self.step(  # type: ignore[assignment]
                f"the opening's draw of {N_DRAW:,} pre-queued tokens", lambda: draw.run(tokens=N_DRAW)
            )

    def run_once(self) -> None:
        from bench.scenarios import contention, flow, http_load, orders, scaling

        ctx = self.ctx
        assert ctx is not None
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
            "order_best_available",
            lambda: orders.order_best_available(ctx),
            [("POST", "/api/v1/queue/tokens"), ("POST", "/api/v1/orders")],
            queue=True,
            prepare=lambda: self._activate("order", ctx.order_concert_of),
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
        self.scenario(
            "queue_scaling",
            lambda: scaling.run(ctx, self.scaling_seeded),
            [("GET", "/api/v1/queue/status")],
            queue=True,
            prepare=self.seed_waiting,  # its layout check compares with a token the service issued
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
        if "queue" in ctx.queue_tokens:  # once: every repetition polls the same queue
            return
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
        from bench.repeat import aggregate

        if not self.rep_results:
            self.rep_results.append(self.finish_rep())
        if self.reps == 1:
            scenarios = self.rep_results[0]
        else:
            scenarios = aggregate(self.rep_results)
            for name, res in scenarios.items():
                res["target_met"] = self.target_met(name, res)
        scenarios["baseline"]["harness_timings_s"] = self.timings
        report: dict[str, object] = {
            "machine": machine_info(self.stack) | {"repetitions": self.reps},
            "scenarios": scenarios,
        }
        if self.draw is not None:
            report["draw"] = self.draw
        return report

    def finish_rep(self) -> dict[str, dict[str, object]]:
        """This repetition's results, with ratios to its own baseline and whether each target is met."""
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
        return {name: self.results[name] for name in SCENARIOS}

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
