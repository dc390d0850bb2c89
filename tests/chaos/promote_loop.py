"""One of two admission loops run at once (fault 3): what `manage.py promote_queue --concert ID` does,
repeated as fast as it goes for a bounded time, printing how many tokens it admitted in total.

    python -m tests.chaos.promote_loop CONCERT_ID SECONDS
"""

from __future__ import annotations

import sys
import time

import django


def main() -> None:
    concert_id, seconds = int(sys.argv[1]), float(sys.argv[2])
    django.setup()
    from queue_app import services

    admitted = rounds = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and rounds < 100_000:
        admitted += services.queue_promote(concert_id=concert_id)
        rounds += 1
    print(f"admitted={admitted} rounds={rounds}", flush=True)


if __name__ == "__main__":
    main()
