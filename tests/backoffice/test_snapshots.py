"""The per-minute sale snapshots: what one records, one row per concert and minute, retention, and the
series and CSV the live sale page is drawn from."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from backoffice import tasks
from backoffice.live_sale import selectors, services
from backoffice.models import SaleSnapshot
from queue_app.selectors import queue_overview
from queue_app.services import queue_promote, queue_token_issue
from tests.booking import booker_for, on_sale_schedule
from tests.factories import ConcertFactory, UserFactory, schedule_with_seats

pytestmark = pytest.mark.django_db


def sell(schedule, seat_number: int) -> None:
    fan = booker_for(schedule)
    assert fan.client.post("/api/v1/points/charge", {"amount": 1000}, format="json").status_code == 200
    reservation_id = fan.hold(schedule, seat_number).json()["id"]
    assert fan.pay(reservation_id).status_code == 201


def test_a_snapshot_records_the_queue_holds_sales_and_revenue_of_each_concert_on_sale(clock) -> None:
    schedule = on_sale_schedule(seats=5, price=100)
    concert = schedule.concert
    sell(schedule, 1)
    sell(schedule, 2)
    assert booker_for(schedule).hold(schedule, 3).status_code == 201
    waiting_fan = UserFactory()
    queue_token_issue(user_id=waiting_fan.pk, concert_id=concert.pk)
    past_only = schedule_with_seats(
        2, starts_at=clock.now() - timedelta(days=1), sales_open_at=clock.now() - timedelta(days=2)
    )

    assert services.sale_snapshots_record() == 1

    snapshot = SaleSnapshot.objects.get()
    overview = queue_overview(concert_id=concert.pk)
    assert snapshot.concert_id == concert.pk and snapshot.concert_id != past_only.concert_id
    assert snapshot.taken_at == clock.now().replace(second=0)
    assert (snapshot.holds, snapshot.sales, snapshot.revenue) == (1, 2, 200)
    assert snapshot.admitted_total == 3 and snapshot.waiting == 1
    assert (snapshot.waiting, snapshot.active, snapshot.admitted_total, snapshot.abandoned_total) == (
        overview.waiting,
        overview.active,
        overview.admitted_total,
        overview.abandoned_total,
    )


def test_a_lapsed_hold_and_a_refunded_ticket_are_not_counted(clock) -> None:
    schedule = on_sale_schedule(seats=3, price=100)
    assert booker_for(schedule).hold(schedule, 1).status_code == 201
    clock.advance(301)  # past RESERVATION_HOLD_SECONDS: the hold lapsed, no job ran
    services.sale_snapshots_record()
    assert SaleSnapshot.objects.values_list("holds", "sales", "revenue").get() == (0, 0, 0)


@pytest.mark.embedded
def test_recording_is_idempotent_per_minute_and_each_new_minute_adds_a_row(clock) -> None:
    schedule = on_sale_schedule(seats=3)
    assert services.sale_snapshots_record() == 1
    clock.advance(40)  # still the same minute
    sell(schedule, 1)
    assert services.sale_snapshots_record() == 0
    assert SaleSnapshot.objects.get().sales == 0  # the minute's first row stands
    clock.advance(20)  # the next minute
    assert services.sale_snapshots_record() == 1
    assert list(SaleSnapshot.objects.values_list("sales", flat=True)) == [0, 1]


def test_the_database_refuses_a_second_row_for_a_concert_and_minute(clock) -> None:
    on_sale_schedule(seats=1)
    services.sale_snapshots_record()
    row = SaleSnapshot.objects.get()
    row.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


def test_a_concert_without_a_sale_ahead_is_not_recorded(clock) -> None:
    ConcertFactory()  # no schedule
    now = clock.now()
    schedule_with_seats(1, starts_at=now - timedelta(hours=1), sales_open_at=now - timedelta(days=1))
    schedule_with_seats(
        1,
        starts_at=now + timedelta(days=3),
        sales_open_at=now - timedelta(days=2),
        sales_close_at=now - timedelta(days=1),
    )
    upcoming = schedule_with_seats(
        1, starts_at=now + timedelta(days=3), sales_open_at=now + timedelta(days=1)
    )
    assert services.sale_snapshots_record() == 1
    assert list(SaleSnapshot.objects.values_list("concert_id", flat=True)) == [upcoming.concert_id]


def test_the_job_deletes_snapshots_older_than_the_retention(clock, settings) -> None:
    settings.SALE_SNAPSHOT_RETENTION_DAYS = 2
    concert = on_sale_schedule(seats=1).concert
    now = clock.now()
    for age in (timedelta(days=3), timedelta(days=2, minutes=1), timedelta(days=1)):
        SaleSnapshot.objects.create(
            concert=concert,
            taken_at=(now - age).replace(second=0),
            waiting=0,
            active=0,
            admitted_total=0,
            abandoned_total=0,
            holds=0,
            sales=0,
            revenue=0,
        )

    assert tasks.sale_snapshots_record() == {"recorded": 1, "purged": 2}

    kept = list(SaleSnapshot.objects.values_list("taken_at", flat=True))
    assert kept == [(now - timedelta(days=1)).replace(second=0), now.replace(second=0)]


def record_sale_minutes(clock, schedule) -> None:
    """Three recorded minutes: two fans admitted and one ticket sold, then two more admitted and a sale."""
    concert = schedule.concert
    services.sale_snapshots_record()  # minute 0: nothing yet
    clock.advance(60)
    sell(schedule, 1)  # admits one fan
    booker_for(schedule).hold(schedule, 2)
    services.sale_snapshots_record()  # minute 1
    clock.advance(120)
    for fan in UserFactory.create_batch(2):
        queue_token_issue(user_id=fan.pk, concert_id=concert.pk)
    queue_promote(concert_id=concert.pk)
    sell(schedule, 3)
    services.sale_snapshots_record()  # minute 3 (minute 2 went unrecorded)


def test_the_series_gives_rates_per_minute_and_conversion(clock, settings) -> None:
    settings.QUEUE_PROMOTION_BATCH_SIZE = 10
    schedule = on_sale_schedule(seats=5, price=80)
    record_sale_minutes(clock, schedule)

    data = selectors.live_sale_data(concert_id=schedule.concert_id, window_minutes=60)

    series = data["series"]
    start = clock.now().replace(second=0) - timedelta(minutes=3)
    assert series["labels"] == [f"{start + timedelta(minutes=m):%H:%M}" for m in (0, 1, 3)]
    admitted = [row.admitted_total for row in SaleSnapshot.objects.order_by("taken_at")]
    assert admitted == [0, 2, 5]
    assert series["admitted_per_minute"] == [None, 2.0, 1.5]
    assert series["holds"] == [0, 1, 1] and series["sales"] == [0, 1, 2]
    assert series["conversion"] == [None, 0.5, 0.4]
    assert series["revenue"] == [0, 80, 160]
    assert data["now"]["sales"] == 2 and data["now"]["revenue"] == 160 and data["now"]["conversion"] == 0.4

    narrow = selectors.live_sale_data(concert_id=schedule.concert_id, window_minutes=2)
    assert narrow["series"]["labels"] == series["labels"][-1:]


def test_the_csv_export_has_a_line_per_recorded_minute(clock, settings, operator_client) -> None:
    settings.QUEUE_PROMOTION_BATCH_SIZE = 10
    schedule = on_sale_schedule(seats=5, price=80)
    record_sale_minutes(clock, schedule)

    response = operator_client.get(f"/admin/backoffice/livesale/{schedule.concert_id}/snapshots.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == selectors.CSV_HEADER
    minute = clock.now().replace(second=0)
    assert rows[1:] == [
        [(minute - timedelta(minutes=3)).isoformat(), "0", "0", "0", "0", "0", "0", "0", ""],
        [(minute - timedelta(minutes=2)).isoformat(), *rows[2][1:3], "2", "0", "1", "1", "80", "0.5000"],
        [minute.isoformat(), *rows[3][1:3], "5", "0", "1", "2", "160", "0.4000"],
    ]
