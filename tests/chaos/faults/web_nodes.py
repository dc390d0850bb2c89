"""6. Two web nodes behind HAProxy, sharing PostgreSQL and Redis: the queue is one FIFO across nodes, and
one node SIGKILLed mid-load (its gunicorn master and workers at once) loses no committed payment."""

from __future__ import annotations

import os
import signal
import time

import psycopg

from bench.stackbase import free_port
from tests.chaos.faults.blocked_payment import BlockedPayment
from tests.chaos.faults.common import (
    Ctx,
    FaultResult,
    judge_answers,
    judge_paid_exist,
    retry_interrupted,
)
from tests.chaos.load import Booker, Http, LoadDriver
from tests.chaos.stack import http_status, wait_until

FIFO_CAP = 3


def fault_two_web_nodes(ctx: Ctx) -> FaultResult:
    res = FaultResult("6. two web nodes behind HAProxy: one FIFO across nodes; a node SIGKILLed mid-load")
    stack = ctx.stack
    port2, lb_port = free_port(), free_port()
    stack.start_web("gunicorn2", port2)
    stack.start_haproxy(lb_port, {"web1": stack.http_port, "web2": port2})
    res.check(
        "HAProxy answers in front of both nodes", wait_until(lambda: stack.haproxy_up(lb_port), 15, 0.2)
    )
    try:
        _fifo_across_nodes(res, ctx, [stack.http_port, port2])
        _node_killed(res, ctx, lb_port, port2)
    finally:
        stack.stop_process("haproxy")
        stack.stop_process("gunicorn2")
    return res


def _fifo_across_nodes(res: FaultResult, ctx: Ctx, ports: list[int]) -> None:
    """Users join a paused concert one after another, alternately on each node: their positions follow
    the order they joined whichever node they asked. Once admission resumes (cap FIFO_CAP), exactly the
    first FIFO_CAP are admitted and the others keep their order, as read on either node."""
    users = ctx.fifo_users
    tokens: list[str] = []
    positions: list[int] = []
    for i, user in enumerate(users):
        reply = Http(ports[i % 2]).request(
            "POST", "/api/v1/queue/tokens", {"concert_id": ctx.fifo_concert_id}, user.auth
        )
        if reply.status == 201:
            tokens.append(reply.body["token"])
            positions.append(reply.body["position"])
    res.check(
        f"FIFO: {len(users)} users joined a paused concert alternately on both nodes, positions "
        f"1..{len(users)} in the order they joined ({positions})",
        len(tokens) == len(users) and positions == list(range(1, len(users) + 1)),
    )
    cross = [_status(ports[(i + 1) % 2], t) for i, t in enumerate(tokens)]  # each read on the other node
    res.check(
        "FIFO: each token polled on the other node shows the same position",
        [c[1] if c else None for c in cross] == positions,
        str(cross),
    )
    ctx.sql(
        "UPDATE concerts_concert SET queue_paused = false WHERE id = %s RETURNING id", ctx.fifo_concert_id
    )
    admitted = wait_until(
        lambda: sum(1 for t in tokens if (_status(ports[0], t) or ("", 0))[0] == "ACTIVE") >= FIFO_CAP,
        20,
        0.3,
    )
    time.sleep(2.5)  # more admission rounds: the cap must hold them back
    states = [_status(ports[i % 2], t) for i, t in enumerate(tokens)]
    expected = [("ACTIVE", 0)] * FIFO_CAP + [("WAITING", n) for n in range(1, len(tokens) - FIFO_CAP + 1)]
    res.check(
        f"FIFO: admission resumed with cap {FIFO_CAP}: exactly the first {FIFO_CAP} who joined are ACTIVE, "
        "the others WAITING at positions 1, 2, ... in their order (read alternately on both nodes)",
        admitted and states == expected,
        str(states),
    )


def _status(port: int, token: str) -> tuple[str, int] | None:
    reply = Http(port).request("GET", "/api/v1/queue/status", None, {"X-Queue-Token": token})
    return (reply.body["status"], reply.body["position"]) if reply.status == 200 else None


def _node_killed(res: FaultResult, ctx: Ctx, lb_port: int, port2: int) -> None:
    stack = ctx.stack
    first, count = ctx.lb_seats
    lb = LoadDriver(
        port=lb_port,
        concert_id=ctx.concert_id,
        schedule_id=ctx.schedule_id,
        seats=count,
        first_seat=first,
        bookers=[Booker(b.user_id, b.jwt) for b in ctx.lb_bookers],
        watchers=ctx.lb_watchers,
        duration=180,
    )
    lb.set_phase("two-nodes")
    lb.start()
    try:
        started = time.monotonic()
        res.check("through HAProxy: the load pays", wait_until(lambda: len(lb.paid) >= 4, 60, 0.2))
        served = {r.reply.headers.get("x-served-by") for r in lb.since(started)} - {None}
        res.check(
            f"through HAProxy: both nodes served the load ({sorted(served)})", served == {"web1", "web2"}
        )
        lb.set_phase("node-killed")
        killed = time.monotonic()

        def kill_node(lock_conn: psycopg.Connection, probe: BlockedPayment) -> None:
            """A payment waits on its wallet row on web2, mid-transaction; web2 dies (the master and its
            workers at once), with the balancer's payments in flight as well."""
            nonlocal killed
            # Briefly, for company: the probe gives up on the row lock after lock_timeout (3 s) with a
            # 503, and the kill must come while it still waits.
            wait_until(lambda: lb.payments_in_flight > 0, 1.0, 0.002)
            master = stack.procs["gunicorn2"].pid
            workers = stack.web_worker_pids("gunicorn2")
            killed = time.monotonic()
            os.killpg(master, signal.SIGKILL)
            res.notes.append(f"node web2 SIGKILLed (master {master}, workers {workers}) mid-payment")
            time.sleep(0.3)
            lock_conn.rollback()

        probe = BlockedPayment(ctx, port=port2)
        probe.run(kill_node)
        answer = probe.answer
        res.check(
            f"a payment on web2 was waiting mid-transaction when web2 died; its client got no answer "
            f"({answer.error[:40] if answer else None})",
            probe.waiting and answer is not None and answer.status == 0,
            f"waiting {probe.waiting}; answered {answer.status if answer else None} after "
            f"{answer.seconds if answer else 0:.2f} s: {answer.raw[:120] if answer else b''!r}",
        )
        probe.check_retry_pays_once(res, "the payment cut on web2")
        paid_before = len(lb.paid)
        res.check(
            "with one node dead the load keeps paying through the balancer",
            wait_until(lambda: len(lb.paid) >= paid_before + 4, 45, 0.2),
        )
        time.sleep(2.0)
        after = lb.since(killed + 2.0, time.monotonic())
        res.check(
            f"2 s after the kill every answer comes from the live node ({len(after)} answers)",
            bool(after)
            and all(r.reply.headers.get("x-served-by") == "web1" for r in after if r.reply.status),
        )
        records = lb.since(started, time.monotonic())
        judge_answers(res, records, "through the balancer, around the kill")
        cut = sum(1 for r in records if r.reply.status in (0, 503))
        res.notes.append(f"{cut} answers through the balancer were cut (no answer, or its 503) by the kill")
    finally:
        lb.stop()
    retry_interrupted(res, ctx, list(lb.interrupted), "payments cut by the node kill")
    judge_paid_exist(res, ctx, lb, " through the balancer")
    judge_paid_exist(res, ctx)
    res.check(
        "the surviving node still serves directly (/readyz 200)",
        http_status(f"{stack.base_url}/readyz") == 200,
    )
    stack.stop_process("gunicorn2", signal.SIGKILL, timeout=5)  # reap the dead node
    res.notes.append(f"balancer load: {len(lb.records)} requests, {len(lb.paid)} payments answered 201")
