"""Fault tests on the real stack (`make chaos`): PostgreSQL, Redis, gunicorn, a Celery worker and one
beat as child processes on free loopback ports, load running, one fault at a time, invariants after each.

Not collected by pytest (no test_*.py files here): `python -m tests.chaos.run` is the entry point.
  stack.py       the chaos-only parts of the stack (short clocks, worker and beat apart, restart, pause);
                 starting, stopping and health waits are bench/stackbase.py's, shared with `make bench`
  load.py        the load driver: threads of virtual users over http.client, bounded in time and count
  invariants.py  the SQL invariant check run after every fault (plus the queue's Redis structure)
  faults/        the four fault scenarios, one module each, and what they share
  run.py         seeding, the run, the report, the exit code
"""
