"""The benchmark harness imports and its committed results have the shape tools read (nothing is measured)."""

import json
from pathlib import Path

import pytest

from bench import run
from bench.httpclient import percentile
from bench.wrkrun import LUA

RESULTS = Path(run.__file__).resolve().parent / "results.json"
COMMON = {"rps", "p50_ms", "p99_ms", "errors_5xx", "ratio_to_baseline"}


def test_results_json_has_every_scenario_with_the_common_figures():
    if not RESULTS.exists():
        pytest.skip("bench/results.json not written yet (make bench)")
    report = json.loads(RESULTS.read_text())
    assert {"cpu_model", "cores", "python", "postgres", "redis", "date"} <= set(report["machine"])
    assert set(report["scenarios"]) <= set(run.SCENARIOS)
    assert set(run.SCENARIOS) == set(report["scenarios"])
    for name, figures in report["scenarios"].items():
        assert set(figures) >= COMMON, name
    if report["scenarios"]["hold_contention"]["rps"] is not None:
        assert isinstance(report["scenarios"]["hold_contention"]["exactly_one_winner"], bool)
    if report["scenarios"]["flow"]["rps"] is not None:
        assert isinstance(report["scenarios"]["flow"]["invariants_hold"], bool)
    if report["scenarios"]["order_best_available"]["rps"] is not None:
        orders = report["scenarios"]["order_best_available"]
        assert isinstance(orders["no_spurious_not_enough_seats"], bool)
        assert orders["server_cpu_ms_per_request"] > 0


def test_a_skipped_scenario_keeps_the_shape_and_is_neither_met_nor_failed():
    skipped = run.empty_result("skipped: endpoint not available (404)")
    assert set(skipped) >= COMMON
    assert run.Runner.target_met("seat_map", skipped) is None


def test_target_met_needs_the_ratio_and_zero_5xx():
    ok = {"rps": 100.0, "errors_5xx": 0, "ratio_to_baseline": 0.41}
    assert run.Runner.target_met("seat_map", ok) is True
    assert run.Runner.target_met("seat_map", ok | {"ratio_to_baseline": 0.39}) is False
    assert run.Runner.target_met("seat_map", ok | {"errors_5xx": 1}) is False
    assert run.Runner.target_met("flow", ok | {"invariants_hold": False}) is False


def test_percentile_and_the_wrk_script_exist():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([], 99) == 0.0
    assert LUA.exists()


def test_repetitions_combine_into_medians_with_their_spread_and_leave_failed_ones_out():
    from bench.repeat import aggregate

    def rep(rps, p99, winner, calls):
        return {
            "hold_contention": {
                "rps": rps,
                "p99_ms": p99,
                "errors_5xx": 0,
                "exactly_one_winner": winner,
                "round_trips": {"redis_calls_per_request": calls},
            },
            "queue_scaling": {"rps": None, "skipped": "failed"}
            if rps == 12
            else {"rps": rps, "sizes": [{"rps": rps}]},
        }

    combined = aggregate([rep(10, 50, True, 1.0), rep(12, 70, False, 1.2), rep(11, 60, True, 1.1)])
    hold = combined["hold_contention"]
    assert (hold["rps"], hold["p99_ms"], hold["exactly_one_winner"]) == (11, 60, False)
    assert hold["spread"]["rps"] == [10, 12] and hold["spread"]["redis_calls_per_request"] == [1.0, 1.2]
    scaling = combined["queue_scaling"]
    assert (scaling["repetitions"], scaling["repetitions_failed"], scaling["sizes"]) == (
        2,
        1,
        [{"rps": 10.5}],
    )
