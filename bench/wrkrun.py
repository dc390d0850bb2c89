"""Run wrk with bench/wrk/lines.lua and turn its JSON summary into a scenario result."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

LUA = Path(__file__).resolve().parent / "wrk" / "lines.lua"


def write_lines(path: Path, rows: list[tuple[str, str, list[str]]]) -> Path:
    """rows: (path, body, ["Header: value", ...]); see lines.lua for the format."""
    with open(path, "w") as f:
        for req_path, body, headers in rows:
            assert "\t" not in req_path + body and "\n" not in req_path + body
            f.write("\t".join([req_path, body, *headers]) + "\n")
    return path


def run_wrk(
    url: str,
    data: Path,
    *,
    method: str = "GET",
    duration: int = 12,
    connections: int = 64,
    threads: int = 2,
    rate: float | None = None,
    timeout_s: int = 10,
) -> dict[str, object]:
    env = {
        **os.environ,
        "BENCH_DATA": str(data),
        "BENCH_METHOD": method,
        "BENCH_THREADS": str(threads),
        "BENCH_RATE": str(int(rate)) if rate else "0",
    }
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s"]
    args += ["--timeout", f"{timeout_s}s", "-s", str(LUA), url]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    codes = {int(k): v for k, v in raw["codes"].items()}
    seconds = raw["duration_us"] / 1e6
    lat = raw["latency_us"]
    sock = raw["socket_errors"]
    return {
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": round(lat["p50"] / 1000, 2),
        "p99_ms": round(lat["p99"] / 1000, 2),
        "errors_5xx": sum(v for k, v in codes.items() if k >= 500),
        "requests": raw["requests"],
        "duration_s": round(seconds, 2),
        "p90_ms": round(lat["p90"] / 1000, 2),
        "max_ms": round(lat["max"] / 1000, 2),
        "status_counts": {str(k): codes[k] for k in sorted(codes)},
        "socket_errors": {k: sock[k] for k in ("connect", "read", "write", "timeout")},
        "data_wrapped": raw["wraps"] > 0,
        "wrk": {"threads": threads, "connections": connections, "duration_s": duration}
        | ({"paced_to_rps": int(rate)} if rate else {}),
    }
