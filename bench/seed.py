"""The large data set, written at COPY speed by the orchestrator's own Django (same settings as the stack).

- catalog: N concerts x M schedules x K seats (COPY for the seats),
- users: COPY with one precomputed password hash; JWT access tokens minted in-process,
- queue tokens: through the queue app's own service/backend code in-process (bench/queueseed.py).
Must be called after django.setup().
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.utils import timezone

GRADES = [("VIP", 3), ("R", 2), ("S", 1)]  # as seed_concerts: the front rows are dearer


@dataclass
class Catalog:
    concert_ids: list[int] = field(default_factory=list)
    schedules: dict[int, list[int]] = field(default_factory=dict)  # concert id -> schedule ids
    seats_per_schedule: int = 0
    seconds: float = 0.0


def copy_objects(model: type[models.Model], objs: Iterable[models.Model]) -> int:
    """Insert unsaved model instances with COPY FROM STDIN: every concrete column but an auto primary key,
    values prepared exactly as Django would save them (defaults, auto_now, db prep)."""
    fields = [
        f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))
    ]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    n = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(
                    [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
                )
                n += 1
    return n


def seed_catalog(*, concerts: int, schedules: int, seats: int) -> Catalog:
    from concerts.models import Concert, Schedule, Seat

    started = time.perf_counter()
    now = timezone.now()
    base_day = (now + timedelta(days=7)).replace(hour=19, minute=0, second=0, microsecond=0)
    concert_objs = Concert.objects.bulk_create(
        [
            Concert(name=f"Bench Concert {i + 1:02d}", venue="Bench Arena", price=50_000 + 10_000 * (i % 5))
            for i in range(concerts)
        ]
    )
    schedule_objs = Schedule.objects.bulk_create(
        [
            Schedule(
                concert=c,
                starts_at=base_day + timedelta(days=7 * j + i),
                sales_open_at=now - timedelta(hours=1),
            )
            for i, c in enumerate(concert_objs)
            for j in range(schedules)
        ]
    )
    per_grade = seats // len(GRADES)

    def seat_rows() -> Iterable[Seat]:
        for s in schedule_objs:
            price = s.concert.price
            for n in range(1, seats + 1):
                grade, mult = GRADES[min((n - 1) // per_grade, len(GRADES) - 1)] if per_grade else GRADES[-1]
                yield Seat(schedule_id=s.pk, number=n, grade=grade, price=price * mult // 2)

    copy_objects(Seat, seat_rows())
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Seat._meta.db_table}")
    catalog = Catalog(seats_per_schedule=seats)
    for c in concert_objs:
        catalog.concert_ids.append(c.pk)
        catalog.schedules[c.pk] = [s.pk for s in schedule_objs if s.concert_id == c.pk]
    catalog.seconds = time.perf_counter() - started
    return catalog


def seed_users(*, prefix: str, count: int) -> list[int]:
    """`count` users `<prefix><i>@bench.example` (one shared precomputed hash); their ids in order of i."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    password_hash = make_password("bench-password-1234")
    emails = [f"{prefix}{i}@bench.example" for i in range(count)]
    copy_objects(
        User, (User(email=e, name=f"{prefix} {i}", password=password_hash) for i, e in enumerate(emails))
    )
    ids = dict(
        User.objects.filter(email__startswith=prefix, email__endswith="@bench.example").values_list(
            "email", "id"
        )
    )
    return [ids[e] for e in emails]


def mint_access_tokens(user_ids: Sequence[int]) -> list[str]:
    """JWT access tokens for these users, minted in-process with simplejwt (no database query)."""
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import AccessToken

    User = get_user_model()
    return [str(AccessToken.for_user(User(pk=uid))) for uid in user_ids]


def analyze() -> None:
    """ANALYZE the tables the seed filled, as autovacuum would have by now, and leave the empty ones alone
    as autovacuum does (it analyzes a table after rows change in it). An empty table ANALYZEd is believed
    empty: a connection's first foreign-key checks against it are planned as sequential scans, and that
    cached plan is kept while the table grows under load until the next ANALYZE, which autovacuum does
    within a minute on a live database and a benchmark of seconds would never see. A never-analyzed
    table is planned at a modest size (index lookups), as on a fresh deployment."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables "
            "WHERE n_live_tup > 0 OR n_tup_ins > 0"
        )
        tables = [name for (name,) in cursor.fetchall()]
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
