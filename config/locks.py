"""Every PostgreSQL advisory lock the project takes, in one registry: a named namespace per purpose and
one key function. All locks use the two-key form `pg_advisory_xact_lock(namespace, id)`, so purposes can
never collide with one another, only two ids of one purpose (which then merely wait for each other).

One key has a twin in SQL: reservations_hold_seat() (migration reservations/0002_hold_seat_function)
takes `pg_advisory_xact_lock(8001, mod(p_user_id, 2147483647)::integer)`, which is
`advisory_key(USER_HOLDS, user_id)`; a test reads the installed function and checks it uses these values.
"""

from __future__ import annotations

INT4_MAX = 2_147_483_647  # the second key is an int4: ids are folded into 0 .. INT4_MAX - 1

# Namespaces (the first key). Never reuse a number for another purpose.
USER_HOLDS = 8001  # one user's holds one at a time (the hold limit); taken in SQL, see above
QUEUE_ADMISSION = 0x5155  # "QU": one admission round per concert at a time (database queue backend)
IDEMPOTENCY_KEY = 0x4944  # "ID": one request per (user, Idempotency-Key) at a time


def advisory_key(namespace: int, ident: int) -> tuple[int, int]:
    """The (namespace, id) pair for pg_advisory_xact_lock / pg_try_advisory_xact_lock(%s, %s)."""
    return namespace, ident % INT4_MAX
