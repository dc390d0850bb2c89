"""`--repeat N`: the scenarios' results over N repetitions, as one result per scenario.

Every figure is the median over the repetitions, and the key figures carry their spread (min-max).
Ratios are computed inside each repetition against that repetition's own baseline first, so a slow
repetition moves its ratios as little as possible; the median ratio is then taken over repetitions.
Booleans (exact outcomes) hold only if they held every time; 5xx are summed.
"""

from __future__ import annotations

import statistics
from typing import Any

SPREAD = (
    "rps",
    "p50_ms",
    "p99_ms",
    "ratio_to_baseline",
    "ratio_to_adjacent_baseline",
    "server_cpu_ms_per_request",
    "redis_calls_per_request",
    "sql_statements_per_request",
)
SUMMED = {"errors_5xx", "requests"}


def _median(values: list[Any]) -> Any:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not numbers:
        return values[0]
    m = statistics.median(numbers)
    return round(m, 3) if isinstance(m, float) else m


def combine(values: list[Any], key: str = "") -> Any:
    """The median of numbers, all() of booleans, element-wise for dicts and equal-length lists, the
    first value otherwise."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    if isinstance(first, bool):
        return all(bool(v) for v in present)
    if isinstance(first, int | float):
        if key in SUMMED:
            return sum(v for v in present if isinstance(v, int | float))
        return _median(present)
    if isinstance(first, dict):
        keys = list(dict.fromkeys(k for v in present if isinstance(v, dict) for k in v))
        return {k: combine([v.get(k) for v in present if isinstance(v, dict)], k) for k in keys}
    same_lists = all(isinstance(v, list) and len(v) == len(first) for v in present)
    if isinstance(first, list) and same_lists and all(isinstance(x, dict) for x in first):
        return [combine([v[i] for v in present]) for i in range(len(first))]
    return first


def figures(result: dict[str, Any]) -> dict[str, Any]:
    """The figures whose spread is reported, flattened (counts come from round_trips)."""
    trips = result.get("round_trips") or {}
    flat = {k: result.get(k) for k in SPREAD if k in result}
    for k in ("redis_calls_per_request", "sql_statements_per_request"):
        if k in trips:
            flat[k] = trips[k]
    return flat


def aggregate(runs: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """{scenario: result} per repetition -> {scenario: combined result with `spread` and `runs`}."""
    out: dict[str, dict[str, Any]] = {}
    for name in runs[0]:
        results = [run[name] for run in runs if name in run]
        measured = [r for r in results if r.get("rps") is not None]
        failed = len(results) - len(measured)
        results = measured or results  # a repetition that failed is left out (and counted)
        combined = combine(results)
        per_run = [figures(r) for r in results]
        combined["spread"] = {
            k: [min(vals), max(vals)]
            for k in SPREAD
            if (vals := [f[k] for f in per_run if isinstance(f.get(k), int | float)])
        }
        combined["repetitions"] = len(results)
        if failed and measured:
            combined["repetitions_failed"] = failed
        combined["per_repetition"] = per_run
        out[name] = combined
    return out
