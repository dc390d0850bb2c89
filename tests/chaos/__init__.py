"""Fault tests on the real stack (`make chaos`): PostgreSQL, Redis, gunicorn, a Celery worker and one
beat as child processes on free loopback ports, load running, one fault at a time, invariants after each.

Not collected by pytest (no test_*.py files here): `python -m tests.chaos.run` is the entry point.
  stack.py       start/stop/kill each process, wait for health
  load.py        the load driver: threads of virtual users over http.client, bounded in time and count
  invariants.py  the SQL invariant check run after every fault (plus the queue's Redis structure)
  faults.py      the four fault scenarios
  run.py         seeding, the run, the report, the exit code
"""
