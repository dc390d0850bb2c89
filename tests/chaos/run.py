"""`make chaos`: start the stack, seed it, run the load, inject each fault, check the invariants after
each, print the report, exit non-zero if anything failed. Everything started is stopped at the end.

    .venv/bin/python -m tests.chaos.run            # all faults
    .venv/bin/python -m tests.chaos.run 2 4        # only faults 2 and 4
    CHAOS_KEEP_WORKDIR=1 ...                       # keep the logs and data directory
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections import Counter
from datetime import timedelta

from tests.chaos import faults
from tests.chaos.invariants import Verdict, check_database, check_queue
from tests.chaos.load import Booker, LoadDriver
from tests.chaos.stack import Stack, wait_until

LOAD_SEATS = 3500  # the loads book seats 1..LOAD_SEATS; the rest are for the scripted probes
LB_SEATS = 1000  # the last LB_SEATS of them are the balancer's load's (fault 6)
PROBE_SEATS = 200
PRICE = 100
LOAD_GRADE = "LOAD"  # the grade of the main load's seats only
CAP = 4
SCENARIOS = {
    "1": faults.fault_redis_outage,
    "2": faults.fault_postgres_restart,
    "3": faults.fault_worker_and_beat,
    "4": faults.fault_web_worker_killed,
    "5": faults.fault_cluster_failover,  # moves the stack onto a Redis Cluster for what follows
    "6": faults.fault_two_web_nodes,
    "7": faults.fault_skewed_node,  # a node's clock 30 s off: out of rotation, refuses writes
}


def seed(counts: dict[str, int]) -> dict[str, object]:
    """Catalog, users with full wallets and their access tokens, written by the orchestrator's Django."""
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    from concerts.models import Concert, Schedule, Seat
    from points.services import points_charge
    from users.models import User

    now = timezone.now()
    main_seats = LOAD_SEATS - LB_SEATS
    concert = Concert.objects.create(name="Chaos Load", price=PRICE)
    schedule = Schedule.objects.create(
        concert=concert, starts_at=now + timedelta(days=30), sales_open_at=now - timedelta(hours=1)
    )
    # The main load's seats have a grade of their own: its best-available orders never take another's.
    Seat.objects.bulk_create(
        [
            Seat(schedule=schedule, number=n, price=PRICE, grade=LOAD_GRADE if n <= main_seats else "R")
            for n in range(1, LOAD_SEATS + PROBE_SEATS + 1)
        ]
    )
    capped = Concert.objects.create(name="Chaos Capped", price=PRICE, queue_max_active=CAP)
    capped_schedule = Schedule.objects.create(
        concert=capped, starts_at=now + timedelta(days=30), sales_open_at=now
    )
    # Seats on sale, or admission rounds admit nobody and the cap is never put to the test.
    Seat.objects.bulk_create([Seat(schedule=capped_schedule, number=n, price=PRICE) for n in range(1, 21)])
    fifo = Concert.objects.create(
        name="Chaos FIFO", price=PRICE, queue_max_active=faults.FIFO_CAP, queue_paused=True
    )
    fifo_schedule = Schedule.objects.create(
        concert=fifo, starts_at=now + timedelta(days=30), sales_open_at=now
    )
    Seat.objects.bulk_create([Seat(schedule=fifo_schedule, number=n, price=PRICE) for n in range(1, 21)])
    groups: dict[str, list[Booker]] = {}
    for group, n in counts.items():
        users = User.objects.bulk_create(
            [User(email=f"{group}{i}@chaos.example", name=f"{group} {i}", password="!") for i in range(n)]
        )
        for u in users:
            points_charge(user_id=u.pk, amount=1_000_000)
        groups[group] = [Booker(u.pk, str(AccessToken.for_user(u))) for u in users]
    return {
        "concert": concert.pk,
        "schedule": schedule.pk,
        "capped": capped.pk,
        "fifo": fifo.pk,
        "groups": groups,
    }


def print_verdicts(verdicts: list[Verdict], indent: str = "   ") -> None:
    for v in verdicts:
        if v.name == "(counts)":
            print(f"{indent}       {v.detail}")
            continue
        print(
            f"{indent}[{'ok' if v.ok else 'FAIL'}] {v.name}"
            + (f"  -- {v.detail}" if v.detail and not v.ok else "")
        )


def outcomes(driver: LoadDriver, name: str) -> str:
    """How the load's requests of one kind were answered: status and problem code, most common first."""
    counts = Counter(
        f"{r.reply.status}{' ' + r.reply.code if r.reply.code else ''}"
        for r in driver.records
        if r.name == name
    )
    return ", ".join(f"{outcome}: {n}" for outcome, n in counts.most_common())


def restore(stack: Stack) -> None:
    """After a scenario that stopped short: every service running again for the next one."""
    if not stack.running("redis"):
        stack.start_redis()
    if stack.cluster_mode:
        for port in stack.cluster_ports:
            if not stack.node_running(port):
                stack.start_node(port)
        wait_until(stack.cluster_healthy, 30, 0.2)
    if not stack.running("gunicorn"):
        stack.start_web()
    if not stack.running("worker"):
        stack.start_worker()
    if not stack.running("beat"):
        stack.start_beat()


def main(argv: list[str]) -> int:
    chosen = argv or list(SCENARIOS)
    started = time.monotonic()
    stack = Stack()
    driver: LoadDriver | None = None
    summary: list[tuple[str, bool, float, bool]] = []
    try:
        stack.start_services()
        os.environ.update(stack.app_env())
        stack.manage("migrate", "--noinput")
        import django

        django.setup()
        data = seed(
            {"booker": 6, "watcher": 2, "probe": 24, "queuer": 24, "fifo": 12, "lbbooker": 6, "lbwatcher": 2}
        )
        groups: dict[str, list[Booker]] = data["groups"]
        stack.start_web()
        stack.start_worker()
        stack.start_beat()
        print(
            f"chaos: stack up in {time.monotonic() - started:.0f} s (PostgreSQL :{stack.pg_port}, Redis "
            f":{stack.redis_port}, gunicorn :{stack.http_port} 2x4 gthread, worker, beat; logs {stack.logs})",
            flush=True,
        )
        driver = LoadDriver(
            port=stack.http_port,
            concert_id=data["concert"],
            schedule_id=data["schedule"],
            seats=LOAD_SEATS - LB_SEATS,
            bookers=groups["booker"],
            watchers=groups["watcher"],
            duration=600,
            grade=LOAD_GRADE,
        )
        driver.start()
        warm = wait_until(lambda: len(driver.paid) >= 3, 60, 0.2)
        print(
            f"chaos: load running ({len(driver.paid)} payments in warm-up{'' if warm else ', SLOW'})",
            flush=True,
        )
        ctx = faults.Ctx(
            stack=stack,
            driver=driver,
            concert_id=data["concert"],
            schedule_id=data["schedule"],
            cap_concert_id=data["capped"],
            cap=CAP,
            probes=groups["probe"],
            queuers=groups["queuer"],
            probe_seats=list(range(LOAD_SEATS + 1, LOAD_SEATS + PROBE_SEATS + 1)),
            fifo_concert_id=data["fifo"],
            fifo_users=groups["fifo"],
            lb_bookers=groups["lbbooker"],
            lb_watchers=groups["lbwatcher"],
            lb_seats=(LOAD_SEATS - LB_SEATS + 1, LB_SEATS),
        )
        caps = {data["capped"]: CAP, data["fifo"]: faults.FIFO_CAP}
        concerts = [data["concert"], data["capped"], data["fifo"]]
        for key in chosen:
            t0 = time.monotonic()
            try:
                result = SCENARIOS[key](ctx)
            except Exception as exc:
                result = faults.FaultResult(SCENARIOS[key].__name__)
                result.check(f"the scenario ran to its end (it raised {exc!r})", False)
                traceback.print_exc()
            result.seconds = time.monotonic() - t0
            restore(stack)
            invariants = check_database(stack.database_url) + check_queue(
                stack.queue_redis_url,
                caps,
                concerts,
                cluster=stack.cluster_mode,
            )
            survived = result.ok
            held = all(v.ok for v in invariants)
            summary.append((result.name, survived, result.seconds, held))
            print(
                f"\n== {result.name}: {'SURVIVED' if survived else 'FAILED'} ({result.seconds:.0f} s)",
                flush=True,
            )
            print_verdicts(result.checks)
            for note in result.notes:
                print(f"   note: {note}")
            print(f"   invariants after the fault: {'all hold' if held else 'BROKEN'}")
            print_verdicts(invariants, indent="     ")
            if not (survived and held):
                print("   gunicorn log tail:\n" + stack.log_tail("gunicorn", 15), flush=True)
        driver.stop()
        total = len(driver.records)
        fives = sum(1 for r in driver.records if r.reply.status >= 500 and r.reply.status != 503)
        paid = len(driver.paid)
        print(
            f"\nchaos: load sent {total} requests, {paid} payments answered 201, {fives} 5xx other than 503"
        )
        by_order = sum(1 for p in driver.paid if p.order_id)
        print(f"chaos: {by_order} of those payments named an order, {paid - by_order} a seat")
        for name in ("hold", "order", "pay", "cancel", "refund"):
            print(f"chaos: {name} answers: {outcomes(driver, name)}")
    finally:
        if driver is not None:
            driver.stop()
        stack.stop()
    print("\n== summary")
    for name, survived, seconds, held in summary:
        verdict = "SURVIVED" if survived else "FAILED  "
        print(f"   {verdict}  invariants {'hold  ' if held else 'BROKEN'}  {seconds:5.0f} s  {name}")
    ok = len(summary) == len(chosen) and all(s and h for _, s, _, h in summary)
    print(f"chaos: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
