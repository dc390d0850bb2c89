#!/usr/bin/env python3
"""What the booking flow left in the stack, read back through the API (standard library only).

    python3 tests/compose/kept.py record SUMMARY BASE OUT    # after the flow: write what the API answers
    python3 tests/compose/kept.py compare SUMMARY BASE OUT   # after restarts: the same answers, or exit 1

SUMMARY is .ci/http_flow.py's --summary file. The answers cover both stores: accounts, wallets,
payments and reservations live in PostgreSQL; queue tokens and their status in Redis. A request that
meets a database connection broken by the restart answers 503 once per connection (documented), so 503s
are retried.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def call(base: str, method: str, path: str, body: dict | None = None, **headers: str) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    for _ in range(30):
        request = urllib.request.Request(f"{base}/api/v1{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code != 503:
                raise SystemExit(f"FAIL {method} {path}: {error.code} {error.read()[:300]!r}") from error
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"FAIL {method} {path}: no answer after 30 tries")


def observe(summary: dict, base: str) -> dict:
    seen: dict = {"fans": []}
    for account in summary["accounts"]:
        access = call(base, "POST", "/auth/token", account)["access_token"]
        auth = {"Authorization": f"Bearer {access}"}
        payments = call(base, "GET", "/payments", **auth)["results"]
        reservations = call(base, "GET", "/reservations", **auth)["results"]
        seen["fans"].append(
            {
                "email": call(base, "GET", "/users/me", **auth)["email"],
                "balance": call(base, "GET", "/points", **auth)["balance"],
                "points_history": len(call(base, "GET", "/points/history", **auth)["results"]),
                "payments": sorted((p["id"], p["amount"]) for p in payments),
                "reservations": sorted((r["id"], r["status"]) for r in reservations),
            }
        )
    seen["queue_tokens"] = [
        call(base, "GET", "/queue/status", X_Queue_Token=token)["status"] for token in summary["queue_tokens"]
    ]
    seats = call(base, "GET", f"/schedules/{summary['schedule_id']}/seats?status=SOLD")["results"]
    seen["sold_seats"] = sorted(seat["number"] for seat in seats)
    return seen


def main() -> None:
    mode, summary_path, base, out = sys.argv[1:5]
    summary = json.loads(Path(summary_path).read_text())
    now = json.loads(json.dumps(observe(summary, base.rstrip("/"))))  # as stored: tuples become lists
    if mode == "record":
        Path(out).write_text(json.dumps(now, indent=1))
        fans = now["fans"]
        payments = sum(len(fan["payments"]) for fan in fans)
        reservations = sum(len(fan["reservations"]) for fan in fans)
        print(
            f"ok  recorded: {len(fans)} accounts, {payments} payment(s), {reservations} reservation(s), "
            f"queue tokens {now['queue_tokens']}, sold seats {now['sold_seats']}"
        )
        return
    before = json.loads(Path(out).read_text())
    if now != before:
        print(json.dumps({"before": before, "after": now}, indent=1))
        sys.exit("FAIL the API answers differently after the restart")
    print("ok  the same accounts, balances, payments, reservations, queue tokens and sold seats")


if __name__ == "__main__":
    main()
