"""What the benchmark runs: the scenarios, their targets (ratio to the baseline) and the data set sizes."""

from __future__ import annotations

SCENARIOS = [
    "baseline",
    "queue_status",
    "token_issue",
    "seat_map",
    "hold_distinct",
    "hold_contention",
    "order_best_available",
    "flow",
    "queue_scaling",
]
TARGETS = {
    "queue_status": 0.5,
    "token_issue": 0.45,
    "seat_map": 0.4,
    "hold_distinct": 0.2,
    "order_best_available": 0.15,
}
EXACT = {
    "hold_contention": "exactly_one_winner",
    "order_best_available": "no_spurious_not_enough_seats",
    "flow": "invariants_hold",
    "queue_scaling": "flat_as_it_grows",  # polls/s at 1,000,000 waiting within 15% of those at 10,000
}

# Data set sizes (large enough that the figures hold at scale).
CONCERTS, SCHEDULES, SEATS = 20, 10, 1000
N_WAITING = 100_000
N_ISSUE = 50_000  # fresh users (per repetition) for token_issue (more than ~12 s at the best rate we expect)
N_HOLD = 12_500  # hold users x 4 holds = 50,000 distinct seats
N_CONTENTION = 1_000
# Orders of two best available: buyers per repetition (two orders each: 14,000 orders, more than ~15 s at
# the best rate we expect, so no buyer is sent past the hold limit), on concerts of their own
# (ORDER_CONCERTS_PER_REP x SCHEDULES x SEATS = 30,000 seats a repetition, more than the buyers can take).
N_ORDER = 7_000
ORDER_CONCERTS_PER_REP = 3
N_FLOW = 2_000
N_DRAW = 100_000  # pre-queued tokens drawn at a sale's opening (not a scenario: timed once per run)
ADMISSION_ROUND = 1_000


def empty_result(reason: str) -> dict[str, object]:
    return {
        "skipped": reason,
        "rps": None,
        "p50_ms": None,
        "p99_ms": None,
        "errors_5xx": None,
        "ratio_to_baseline": None,
    }
