"""5. Redis Cluster failover under load: the stack moves onto a cluster of 3 masters and 3 replicas, then
the master holding the load's queue is SIGKILLed; its replica is promoted while the load runs."""

from __future__ import annotations

import time

from tests.chaos.faults.common import QUEUE_ENDPOINTS, Ctx, FaultResult, judge_answers, judge_no_hang
from tests.chaos.queue_keys import slot_of
from tests.chaos.stack import Stack, http_status, wait_until

RECOVERY_LIMIT = 15.0  # seconds from the kill until the queue answers again


def switch_to_cluster(ctx: Ctx, res: FaultResult) -> None:
    """Start the cluster and restart the app's processes on it (REDIS_CLUSTER=true; Celery's broker stays
    on the standalone Redis). The load keeps running: its tokens of the old Redis are unknown on the
    cluster, so its users join the queue again."""
    stack = ctx.stack
    started = time.monotonic()
    stack.start_cluster(masters=3, replicas=1)
    stack.cluster_mode = True
    for name in ("beat", "worker", "gunicorn"):
        stack.stop_process(name)
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    for booker in ctx.driver.bookers:
        booker.token = None
    res.notes.append(
        f"stack switched to a Redis Cluster in {time.monotonic() - started:.1f} s: masters and replicas on "
        f"{', '.join(str(p) for p in stack.cluster_ports)} (cluster-node-timeout 2000 ms); web, worker and "
        f"beat restarted with REDIS_CLUSTER=true, the Celery broker on the standalone Redis "
        f":{stack.redis_port}"
    )


def fault_cluster_failover(ctx: Ctx) -> FaultResult:
    res = FaultResult("5. Redis Cluster: the queue's master SIGKILLed mid-load, its replica promoted")
    stack, driver = ctx.stack, ctx.driver
    if not stack.cluster_mode:
        switch_to_cluster(ctx, res)
    on_cluster = time.monotonic()
    res.check("on the cluster: /readyz 200 and the load pays", http_status(f"{stack.base_url}/readyz") == 200)
    res.check("on the cluster: the load pays", ctx.wait_for_payments(on_cluster, 3, 60))
    user = ctx.probe_user()
    token = ctx.active_token(user)
    res.check("on the cluster: a probe user is admitted (ACTIVE token)", token is not None)

    slot = slot_of(ctx.concert_id)
    victim = stack.master_of_slot(slot)
    replica = stack.replica_of(victim) if victim else None
    res.check(
        f"the load's queue (slot {slot}) lives on master :{victim.port if victim else '?'} with replica "
        f":{replica.port if replica else '?'}",
        victim is not None and replica is not None,
    )
    if victim is None or replica is None:
        return res
    pids = stack.web_worker_pids()
    driver.set_phase("failover")
    killed = time.monotonic()
    stack.kill_node(victim.port)
    promoted = wait_until(lambda: _is_master(stack, replica.port, slot), 20, 0.05)
    promoted_after = time.monotonic() - killed
    res.check(
        f"the replica :{replica.port} was promoted to master of slot {slot} ({promoted_after:.1f} s)",
        promoted,
    )
    recovered = wait_until(
        lambda: ctx.token_status(token or "x") is not None and http_status(f"{stack.base_url}/readyz") == 200,
        RECOVERY_LIMIT,
        0.1,
    )
    recovered_after = time.monotonic() - killed
    res.check(
        f"the queue answers again and /readyz is 200 {recovered_after:.1f} s after the kill "
        f"(<= {RECOVERY_LIMIT:.0f} s), without restarting a web node",
        recovered,
    )
    during = driver.since(killed, killed + recovered_after)
    queue_answers = [r for r in during if r.name in QUEUE_ENDPOINTS]
    unavailable = [r for r in queue_answers if r.reply.status == 503]
    wrong = [r for r in queue_answers if r.reply.status >= 500 and r.reply.code != "service_unavailable"]
    res.check(
        f"while the slot moved: {len(queue_answers)} queue answers, {len(unavailable)} of them 503 "
        "service_unavailable, none a 500",
        not wrong,
        "; ".join(f"{r.name} {r.reply.status} {r.reply.raw[:100]!r}" for r in wrong[:3]),
    )
    streak = [ctx.token_status(token or "x") for _ in range(20)]
    res.check(
        "after the failover: 20 polls in a row answer (no stale slot map, no stale connection)",
        None not in streak,
        str(streak),
    )
    newcomer = ctx.probe_user()
    res.check(
        "after the failover: the beat admits a newcomer", ctx.active_token(newcomer, timeout=25) is not None
    )
    res.check(
        "after the failover: the load pays again", ctx.wait_for_payments(killed + recovered_after, 2, 30)
    )
    res.check(f"no web worker died or was replaced (pids {pids})", stack.web_worker_pids() == pids)
    res.check("the Celery worker and beat still run", stack.running("worker") and stack.running("beat"))
    records = driver.since(killed, time.monotonic())
    judge_answers(res, records, "during and after the failover")
    judge_no_hang(res, records, 5)

    stack.start_node(victim.port)  # the old master comes back and must rejoin as a replica
    rejoined = wait_until(stack.cluster_healthy, 30, 0.2)
    role = next((n.role for n in stack.nodes() if n.port == victim.port), "?")
    res.check(f"the killed master restarted and rejoined as a replica ({role}); cluster_state:ok", rejoined)
    return res


def _is_master(stack: Stack, port: int, slot: int) -> bool:
    node = stack.master_of_slot(slot)
    return node is not None and node.port == port and stack.cluster_state_ok()
