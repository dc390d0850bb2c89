"""2. PostgreSQL restarted mid-load (pg_ctl restart -m fast), with a probe payment mid-transaction."""

from __future__ import annotations

import time

import psycopg

from tests.chaos.faults.blocked_payment import BlockedPayment
from tests.chaos.faults.common import (
    Ctx,
    FaultResult,
    judge_answers,
    judge_no_hang,
    judge_paid_exist,
    retry_interrupted,
)
from tests.chaos.load import is_clean_failure
from tests.chaos.stack import http_status, wait_until


def fault_postgres_restart(ctx: Ctx) -> FaultResult:
    res = FaultResult("2. PostgreSQL restarted mid-load (pg_ctl restart -m fast)")
    stack, driver = ctx.stack, ctx.driver
    pids = stack.web_worker_pids()
    driver.set_phase("pg-before")
    res.check("before: the load is paying", ctx.wait_for_payments(time.monotonic(), 3, 30))
    driver.set_phase("pg-restart")
    started = time.monotonic()
    # The restart happens while a probe payment is mid-transaction and the load is running.
    _pg_restart_during_payment(res, ctx)
    restarted = time.monotonic()
    driver.set_phase("pg-after")
    res.check("after restart: /readyz 200", http_status(f"{stack.base_url}/readyz") == 200)
    res.check(
        "after restart: connections recover without restarting anything (the worker admits, the load pays)",
        ctx.wait_for_payments(restarted, 3, 30),
    )
    time.sleep(1.0)
    records = driver.since(started - 0.5, time.monotonic())
    judge_answers(res, records, "around the restart")
    judge_no_hang(res, records, 8)
    res.check(f"no web worker died or was replaced (pids {pids})", stack.web_worker_pids() == pids)
    interrupted = [a for a in driver.interrupted if a.phase in ("pg-restart", "pg-after")]
    retry_interrupted(res, ctx, interrupted, "payments interrupted by the restart")
    judge_paid_exist(res, ctx)
    return res


def _pg_restart_during_payment(res: FaultResult, ctx: Ctx) -> None:
    def restart(lock_conn: psycopg.Connection, probe: BlockedPayment) -> None:
        res.check(
            "a probe payment is mid-transaction (waiting on a row lock) when PostgreSQL goes down",
            probe.waiting,
        )
        ctx.stack.pg_restart_fast()

    probe = BlockedPayment(ctx)
    probe.run(restart)
    answer = probe.answer
    res.check(
        "the in-flight payment is answered 503 service_unavailable with Retry-After "
        f"({answer.status if answer else None} {answer.code if answer else None}, "
        f"{answer.seconds if answer else 0:.1f} s)",
        answer is not None and answer.status == 503 and is_clean_failure(answer),
        answer.raw[:160].decode(errors="replace") if answer else "",
    )
    wait_until(lambda: http_status(f"{ctx.stack.base_url}/readyz") == 200, 20, 0.2)
    probe.check_retry_pays_once(res, "the payment cut by the restart")
