"""The catalog pages (concert with schedules, schedule with its seat map and seat generation) and the
sales dashboard (counts by status and revenue per schedule, in a bounded number of queries)."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.services import reservation_cancel
from concerts.models import Concert, Schedule, Seat
from concerts.services import seat_block
from tests.booking import booker_for, lapse, on_sale_schedule
from tests.factories import ScheduleFactory, schedule_with_seats

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/backoffice/salesdashboard/"


def test_operator_creates_a_concert_with_a_schedule_and_generates_seats(operator_client, operator):
    starts = timezone.now() + timedelta(days=30)
    response = operator_client.post(
        "/admin/concerts/concert/add/",
        {
            "name": "Harbour Lights",
            "venue": "Pier 4",
            "description": "",
            "price": "120",
            "schedules-TOTAL_FORMS": "1",
            "schedules-INITIAL_FORMS": "0",
            "schedules-MIN_NUM_FORMS": "0",
            "schedules-MAX_NUM_FORMS": "1000",
            "schedules-0-starts_at_0": starts.strftime("%Y-%m-%d"),
            "schedules-0-starts_at_1": "20:00:00",
            "schedules-0-sales_open_at_0": timezone.now().strftime("%Y-%m-%d"),
            "schedules-0-sales_open_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    concert = Concert.objects.get(name="Harbour Lights")
    schedule = Schedule.objects.get(concert=concert)

    url = f"/admin/concerts/schedule/{schedule.pk}/change/"
    form = {
        "concert": concert.pk,
        "starts_at_0": schedule.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": schedule.starts_at.strftime("%H:%M:%S"),
        "sales_open_at_0": schedule.sales_open_at.strftime("%Y-%m-%d"),
        "sales_open_at_1": schedule.sales_open_at.strftime("%H:%M:%S"),
        "generate_count": "100",
        "generate_grade": "VIP",
        "generate_price": "",
    }
    response = operator_client.post(url, form, follow=True)
    assert "Generated 100 seats (1-100)." in response.content.decode()
    assert Seat.objects.filter(schedule=schedule, grade="VIP", price=120).count() == 100
    messages = [e.get_change_message() for e in LogEntry.objects.filter(user=operator).order_by("id")]
    assert messages[0] == "Added." or messages[0].startswith("Added")
    assert "Generated 100 seats (1-100)." in messages

    page = operator_client.get(url).content.decode()
    assert '<th id="seat-count-available">100</th>' in page and "<td>VIP</td>" in page
    concert_page = operator_client.get(f"/admin/concerts/concert/{concert.pk}/change/").content.decode()
    assert 'name="queue_paused"' not in concert_page and 'name="queue_max_active"' not in concert_page
    assert f"/admin/queue_app/concertqueue/{concert.pk}/change/" in concert_page


def test_seat_map_counts_by_grade_and_status(operator_client):
    schedule = on_sale_schedule(seats=6)
    Seat.objects.filter(schedule=schedule, number__gt=4).update(grade="VIP")
    fan = booker_for(schedule)
    fan.hold(schedule, 1)
    lapse(fan.hold(schedule, 2).json()["id"])
    seat_block(seat_id=Seat.objects.get(schedule=schedule, number=5).pk)
    page = operator_client.get(f"/admin/concerts/schedule/{schedule.pk}/change/").content.decode()
    # R: 1 held, 3 available (one of them a lapsed hold); VIP: 1 available, 1 blocked
    assert "<tr><td>R</td><td>3</td><td>1</td><td>0</td><td>0</td><td>4</td></tr>" in page
    assert "<tr><td>VIP</td><td>1</td><td>0</td><td>0</td><td>1</td><td>2</td></tr>" in page


def dashboard_row(html: str, schedule) -> str:
    start = html.index(f'<tr id="schedule-{schedule.pk}">')
    return html[start : html.index("</tr>", start)]


def test_dashboard_shows_counts_and_revenue_per_schedule(operator_client):
    schedule = on_sale_schedule(seats=10, price=100)
    other = on_sale_schedule(seats=4, price=50)
    fan = booker_for(schedule)
    fan.client.post("/api/v1/points/charge", {"amount": 1000}, format="json")
    for number in (1, 2, 3):
        assert fan.pay(fan.hold(schedule, number).json()["id"]).status_code == 201
    refunded = fan.hold(schedule, 4).json()["id"]
    fan.pay(refunded)
    reservation_cancel(reservation_id=refunded, user_id=None)  # refunded: not revenue
    fan.hold(schedule, 5)  # live hold
    lapse(fan.hold(schedule, 6).json()["id"])  # lapsed: available
    seat_block(seat_id=Seat.objects.get(schedule=schedule, number=7).pk)

    html = operator_client.get(DASHBOARD).content.decode()
    row = dashboard_row(html, schedule)
    for cls, value in [
        ("sold-count", 3),
        ("held-count", 1),
        ("available-count", 5),
        ("blocked-count", 1),
        ("total-count", 10),
        ("revenue", 300),
    ]:
        assert f'class="num {cls}">{value}</td>' in row, (cls, row)
    assert "30%" in row
    other_row = dashboard_row(html, other)
    assert 'class="num available-count">4</td>' in other_row and 'class="num revenue">0</td>' in other_row
    assert '<th class="num" id="total-revenue">300</th>' in html

    only_other = operator_client.get(DASHBOARD, {"concert": other.concert_id}).content.decode()
    assert f'id="schedule-{other.pk}"' in only_other and f'id="schedule-{schedule.pk}"' not in only_other


def test_dashboard_hides_past_shows_unless_asked(operator_client):
    past = ScheduleFactory(
        starts_at=timezone.now() - timedelta(days=1), sales_open_at=timezone.now() - timedelta(days=9)
    )
    assert f'id="schedule-{past.pk}"' not in operator_client.get(DASHBOARD).content.decode()
    assert f'id="schedule-{past.pk}"' in operator_client.get(DASHBOARD, {"past": "1"}).content.decode()


def test_dashboard_query_count_does_not_grow_with_schedules(operator_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert operator_client.get(DASHBOARD).status_code == 200
        return len(ctx.captured_queries)

    schedule_with_seats(5)
    few = queries()
    for _ in range(6):
        schedule = on_sale_schedule(seats=5)
        fan = booker_for(schedule)
        fan.client.post("/api/v1/points/charge", {"amount": 100}, format="json")
        fan.pay(fan.hold(schedule, 1).json()["id"])
    assert queries() == few
    assert few <= 8  # session, user, permissions, schedules, revenue, concerts for the filter


def test_dashboard_is_linked_from_the_admin_index(operator_client):
    assert DASHBOARD in operator_client.get("/admin/").content.decode()
