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
    assert set(report["scenarios"]) == set(run.SCENARIOS)
    for name, figures in report["scenarios"].items():
        assert set(figures) >= COMMON, name
    if report["scenarios"]["hold_contention"]["rps"] is not None:
        assert isinstance(report["scenarios"]["hold_contention"]["exactly_one_winner"], bool)
    if report["scenarios"]["flow"]["rps"] is not None:
        assert isinstance(report["scenarios"]["flow"]["invariants_hold"], bool)


def test_a_skipped_scenario_keeps_the_shape_and_is_neither_met_nor_failed():
    skipped = run.empty_result("skipped: endpoint not available (404)")
    assert set(skipped) >= COMMON
    assert run.Runner.target_met("seat_map", skipped) is None


def test_target_met_needs_the_ratio_and_zero_5xx():
    ok = {"rps": 100.0, "errors_5xx": 0, "ratio_to_baseline": 0.31}
    assert run.Runner.target_met("seat_map", ok) is True
    assert run.Runner.target_met("seat_map", ok | {"ratio_to_baseline": 0.29}) is False
    assert run.Runner.target_met("seat_map", ok | {"errors_5xx": 1}) is False
    assert run.Runner.target_met("flow", ok | {"invariants_hold": False}) is False


def test_percentile_and_the_wrk_script_exist():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([], 99) == 0.0
    assert LUA.exists()
