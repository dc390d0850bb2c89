#!/usr/bin/env python3
"""Walk the whole booking flow over HTTP against a running server (`make run`, either mode).

    python .ci/http_flow.py [--base http://127.0.0.1:8000] [--hold-seconds N] [--admit-by-beat S]
                            [--summary FILE]

Standard library only. Prints each step and exits non-zero on the first surprise. Needs the server's
RESERVATION_HOLD_SECONDS to be short (pass the same value as --hold-seconds) to show that an unpaid hold
frees its seat with no job running; admission is done with `manage.py promote_queue` (same settings), or
with --admit-by-beat by waiting up to S seconds for the server's own beat and worker to admit the fans.
--summary writes what the flow created (accounts, tokens, reservations) as JSON for later checks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/") + "/api/v1"

    def call(self, method: str, path: str, body: dict | None = None, **headers: str) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310 - http only
        request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def expect(label: str, got: tuple[int, dict], status: int, code: str | None = None) -> dict:
    actual_status, body = got
    ok = actual_status == status and (code is None or body.get("code") == code)
    shown = body.get("code") or body.get("status") or ""
    print(f"{'ok ' if ok else 'FAIL'} {label}: {actual_status} {shown}")
    if not ok:
        print(json.dumps(body, indent=2))
        sys.exit(1)
    return body


def promote(concert_id: int) -> None:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "promote_queue", "--concert", str(concert_id)],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"     promote_queue: {out.stdout.strip()}")


def wait_for_beat(api: Api, token: str, seconds: int) -> None:
    """The server's beat schedules an admission round every QUEUE_PROMOTION_INTERVAL_SECONDS and its
    worker runs it: the token turns ACTIVE with nothing done here."""
    started = time.monotonic()
    while api.call("GET", "/queue/status", X_Queue_Token=token)[1].get("status") != "ACTIVE":
        if time.monotonic() - started > seconds:
            sys.exit(f"FAIL no admission by the beat within {seconds} s")
        time.sleep(0.5)
    print(f"ok  admitted by the beat after {time.monotonic() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--hold-seconds", type=int, default=0, help="the server's RESERVATION_HOLD_SECONDS")
    parser.add_argument("--admit-by-beat", type=int, default=0, metavar="SECONDS")
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    api = Api(args.base)
    run = uuid.uuid4().hex[:8]

    fans = []
    accounts = []
    for i in range(3):
        email = f"fan{i}-{run}@example.com"
        expect(
            f"register {email}",
            api.call(
                "POST", "/users", {"name": f"Fan {i}", "email": email, "password": "a-long-passphrase-42"}
            ),
            201,
        )
        token = expect(
            "login",
            api.call("POST", "/auth/token", {"email": email, "password": "a-long-passphrase-42"}),
            200,
        )
        fans.append({"Authorization": f"Bearer {token['access_token']}"})
        accounts.append({"email": email, "password": "a-long-passphrase-42"})

    concerts = expect("concerts", api.call("GET", "/concerts"), 200)["results"]
    concert_id = concerts[0]["id"]
    schedule = expect("schedules", api.call("GET", f"/concerts/{concert_id}/schedules"), 200)["results"][0]
    seats = expect("seat map", api.call("GET", f"/schedules/{schedule['id']}/seats?status=AVAILABLE"), 200)[
        "results"
    ]
    seat, other_seat = seats[0], seats[1]

    queue = []
    for i, auth in enumerate(fans):
        body = expect(
            f"queue token fan{i}", api.call("POST", "/queue/tokens", {"concert_id": concert_id}, **auth), 201
        )
        queue.append(body["token"])
    positions = [api.call("GET", "/queue/status", X_Queue_Token=t)[1]["position"] for t in queue]
    print(f"     positions in FIFO order: {positions}")
    if positions != sorted(positions) or positions[0] < 1 or len(set(positions)) != 3:
        sys.exit("FAIL positions are not FIFO")
    again = expect(
        "asking again returns the same token",
        api.call("POST", "/queue/tokens", {"concert_id": concert_id}, **fans[0]),
        200,
    )
    assert again["token"] == queue[0]

    hold_body = {"schedule_id": schedule["id"], "seat_number": seat["number"]}
    if args.admit_by_beat:
        # A running beat may admit the token at any moment, so "a WAITING token may not hold" cannot be
        # shown here without a race; the test suite shows it.
        for token in queue[:2]:
            wait_for_beat(api, token, args.admit_by_beat)
    else:
        expect(
            "hold with a WAITING token",
            api.call("POST", "/reservations", hold_body, X_Queue_Token=queue[0], **fans[0]),
            403,
            "queue_token_not_active",
        )
        promote(concert_id)
        status = expect(
            "status after admission", api.call("GET", "/queue/status", X_Queue_Token=queue[0]), 200
        )
        if status["status"] != "ACTIVE":
            promote(concert_id)  # others may be ahead of us in a busy queue
    expect("fan1 admitted too", api.call("GET", "/queue/status", X_Queue_Token=queue[1]), 200)

    held = expect(
        "hold", api.call("POST", "/reservations", hold_body, X_Queue_Token=queue[0], **fans[0]), 201
    )
    expect(
        "same seat by another fan",
        api.call("POST", "/reservations", hold_body, X_Queue_Token=queue[1], **fans[1]),
        409,
        "seat_unavailable",
    )
    expect("seat reads HELD", api.call("GET", f"/schedules/{schedule['id']}/seats?status=HELD"), 200)
    expect(
        "pay without points",
        api.call("POST", "/payments", {"reservation_id": held["id"]}, X_Queue_Token=queue[0], **fans[0]),
        409,
        "insufficient_points",
    )
    expect(
        "charge",
        api.call(
            "POST", "/points/charge", {"amount": held["price"]}, Idempotency_Key=f"charge-{run}", **fans[0]
        ),
        200,
    )
    expect(
        "charge replayed",
        api.call(
            "POST", "/points/charge", {"amount": held["price"]}, Idempotency_Key=f"charge-{run}", **fans[0]
        ),
        200,
    )
    paid = expect(
        "pay",
        api.call("POST", "/payments", {"reservation_id": held["id"]}, X_Queue_Token=queue[0], **fans[0]),
        201,
    )
    print(f"     payment {paid['id']} amount {paid['amount']}")
    sold = api.call("GET", f"/schedules/{schedule['id']}/seats?status=SOLD")[1]["results"]
    if seat["number"] not in [s["number"] for s in sold]:
        sys.exit("FAIL seat is not SOLD")
    print("ok  seat SOLD")
    time.sleep(0.5)  # the token is expired right after the payment commits
    queue_state = api.call("GET", "/queue/status", X_Queue_Token=queue[0])[1]["status"]
    print(f"{'ok ' if queue_state == 'EXPIRED' else 'FAIL'} token after payment: {queue_state}")
    balance = expect("balance", api.call("GET", "/points", **fans[0]), 200)["balance"]
    if balance != 0:
        sys.exit(f"FAIL balance {balance} (the replayed charge must not count twice)")

    summary = {
        "accounts": accounts,
        "queue_tokens": queue,
        "concert_id": concert_id,
        "schedule_id": schedule["id"],
        "paid_reservation_id": held["id"],
        "payment_id": paid["id"],
        "sold_seat": seat["number"],
    }
    if args.hold_seconds:
        other = {"schedule_id": schedule["id"], "seat_number": other_seat["number"]}
        unpaid = expect(
            "hold left unpaid",
            api.call("POST", "/reservations", other, X_Queue_Token=queue[1], **fans[1]),
            201,
        )
        time.sleep(args.hold_seconds + 1)
        state = expect(
            "unpaid hold after the hold time",
            api.call("GET", f"/reservations/{unpaid['id']}", **fans[1]),
            200,
        )
        seat_now = next(
            s
            for s in api.call("GET", f"/schedules/{schedule['id']}/seats")[1]["results"]
            if s["number"] == other_seat["number"]
        )
        print(
            f"{'ok ' if state['status'] == 'EXPIRED' and seat_now['status'] == 'AVAILABLE' else 'FAIL'} "
            f"reservation {state['status']}, seat {seat_now['status']} (sweep job not yet run)"
        )
        if state["status"] != "EXPIRED" or seat_now["status"] != "AVAILABLE":
            sys.exit(1)
        summary["unpaid_reservation_id"] = unpaid["id"]
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=2))
    print("flow complete")


if __name__ == "__main__":
    main()
