"""4. gunicorn workers SIGKILLed during payments: under load, then before and after a payment's commit."""

from __future__ import annotations

import os
import signal
import time

import psycopg

from tests.chaos.faults.blocked_payment import BlockedPayment
from tests.chaos.faults.common import Ctx, FaultResult, judge_answers, judge_paid_exist, retry_interrupted
from tests.chaos.stack import http_status, wait_until


def fault_web_worker_killed(ctx: Ctx) -> FaultResult:
    res = FaultResult("4. gunicorn worker SIGKILLed during payments")
    stack, driver = ctx.stack, ctx.driver
    driver.set_phase("web-kill")
    started = time.monotonic()
    kills = 0
    for _ in range(4):
        if not wait_until(lambda: driver.payments_in_flight > 0, 10, 0.002):
            continue
        pids = stack.web_worker_pids()
        if not pids:
            continue
        stack_kill(pids[kills % len(pids)])
        kills += 1
        wanted = len(pids)
        wait_until(lambda: len(stack.web_worker_pids()) == wanted, 15, 0.1)  # noqa: B023 - used at once
        time.sleep(1.0)
    res.check(f"{kills} workers killed with SIGKILL while payments were in flight", kills >= 3)
    res.check(
        "the master replaced every killed worker and the stack is ready",
        len(stack.web_worker_pids()) == 2 and http_status(f"{stack.base_url}/readyz") == 200,
    )
    res.check("the load pays again", ctx.wait_for_payments(time.monotonic(), 2, 30))
    records = driver.since(started, time.monotonic())
    judge_answers(res, records, "around the kills")
    cut = sum(1 for r in records if r.reply.status == 0)
    res.notes.append(f"{cut} requests lost their connection to a killed worker")
    retry_interrupted(
        res, ctx, [a for a in driver.interrupted if a.phase == "web-kill"], "payments cut by the kills"
    )
    _killed_before_commit(res, ctx)
    _killed_after_commit(res, ctx)
    judge_paid_exist(res, ctx)
    return res


def stack_kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def _killed_before_commit(res: FaultResult, ctx: Ctx) -> None:
    def kill_then_unlock(lock_conn: psycopg.Connection, probe: BlockedPayment) -> None:
        res.check(
            f"before commit: a payment waits on its wallet row, served by worker {probe.worker_pid}: killed",
            probe.worker_pid is not None,
        )
        if probe.worker_pid is not None:
            stack_kill(probe.worker_pid)
        time.sleep(0.3)
        lock_conn.rollback()

    probe = BlockedPayment(ctx)
    probe.run(kill_then_unlock)
    res.check(
        f"before commit: the client got no answer ({probe.answer.error[:40] if probe.answer else None})",
        probe.answer is not None and probe.answer.status == 0,
    )
    time.sleep(0.5)
    probe.check_retry_pays_once(res, "before commit")


def _killed_after_commit(res: FaultResult, ctx: Ctx) -> None:
    """Committed, not yet answered: Redis is paused so the after-commit step (ending the queue token)
    blocks, and the worker is killed then. The retry must return the committed payment."""
    committed: list[tuple] = []

    def commit_then_kill(lock_conn: psycopg.Connection, probe: BlockedPayment) -> None:
        ctx.stack.signal("redis", signal.SIGSTOP)
        try:
            lock_conn.commit()  # the payment goes on, commits, then blocks on Redis
            wait_until(lambda: bool(ctx.payments_for(probe.reservation)), 3, 0.02)
            committed.extend(ctx.payments_for(probe.reservation))
            if probe.worker_pid is not None and committed:
                stack_kill(probe.worker_pid)
        finally:
            ctx.stack.signal("redis", signal.SIGCONT)
        res.check(
            f"after commit: worker {probe.worker_pid} killed once the payment had committed, "
            "before it answered",
            probe.worker_pid is not None and bool(committed),
        )

    probe = BlockedPayment(ctx)
    probe.run(commit_then_kill)
    res.check(
        f"after commit: the client got no answer ({probe.answer.error[:40] if probe.answer else None})",
        probe.answer is not None and probe.answer.status == 0,
    )
    retry = probe.attempt().retry_until_settled(ctx.port)
    rows = ctx.payments_for(probe.reservation)
    res.check(
        "after commit: the retry with the same key returns the original payment (201, same id, replayed)",
        bool(committed)
        and retry.status == 201
        and str(retry.body["id"]) == str(committed[0][0])
        and retry.headers.get("idempotent-replayed") == "true"
        and len(rows) == 1
        and rows[0][3] == 1,
        f"{retry.status} {retry.raw[:120]!r} / {rows}",
    )
