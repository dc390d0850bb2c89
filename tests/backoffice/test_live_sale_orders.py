"""The live sale page's pace of orders: orders per minute and seats per order over the last minutes, from
the concert's Order rows, on the page and in its JSON feed."""

import pytest

from backoffice.live_sale import selectors
from tests.booking import booker_for, on_sale_schedule

pytestmark = pytest.mark.django_db


def place(schedule, seat_numbers: list[int], *, pay: bool = False, cancel: bool = False) -> None:
    fan = booker_for(schedule)
    response = fan.order(schedule, seat_numbers=seat_numbers)
    assert response.status_code == 201, response.content
    order_id = response.json()["id"]
    if pay:
        assert fan.client.post("/api/v1/points/charge", {"amount": 1000}, format="json").status_code == 200
        assert fan.pay_order(order_id).status_code == 201
    if cancel:
        assert fan.client.post(f"/api/v1/orders/{order_id}/cancel").status_code == 200


@pytest.fixture
def sale(clock):
    """Eleven minutes ago an order of 4 (outside the ten-minute window); since then orders of 1, 2, 2, 3
    and 4 seats (one paid, one cancelled, one left to lapse), and an order in another concert."""
    schedule = on_sale_schedule(seats=30)
    place(schedule, [21, 22, 23, 24])
    clock.advance(11 * 60)
    place(schedule, [1])
    place(schedule, [2, 3], pay=True)
    place(schedule, [4, 5], cancel=True)
    clock.advance(4 * 60)
    place(schedule, [6, 7, 8])
    place(schedule, [9, 10, 11, 12])
    other = on_sale_schedule(seats=5)
    place(other, [1, 2, 3])
    return schedule


@pytest.mark.embedded
def test_orders_per_minute_and_seats_per_order_of_the_last_ten_minutes(sale, clock) -> None:
    pace = selectors.order_pace(concert_id=sale.concert_id, now=clock.now())
    assert (pace.minutes, pace.orders, pace.seats) == (10, 5, 12)
    assert (pace.orders_per_minute, pace.seats_per_order) == (0.5, 2.4)
    assert pace.sizes == {"1": 1, "2": 2, "3": 1, "4": 1}
    # Seven minutes on, the first three orders of the window are eleven minutes old: out of it.
    clock.advance(7 * 60)
    later = selectors.order_pace(concert_id=sale.concert_id, now=clock.now())
    assert (later.orders, later.seats, later.seats_per_order) == (2, 7, 3.5)
    assert later.sizes == {"1": 0, "2": 0, "3": 1, "4": 1}


def test_a_concert_without_recent_orders_reads_zero_and_no_average(clock) -> None:
    schedule = on_sale_schedule(seats=3)
    pace = selectors.order_pace(concert_id=schedule.concert_id, now=clock.now())
    assert (pace.orders, pace.seats, pace.orders_per_minute, pace.seats_per_order) == (0, 0, 0.0, None)
    assert pace.sizes == {"1": 0, "2": 0, "3": 0, "4": 0}


def test_the_json_feed_and_the_page_carry_the_pace(operator_client, sale) -> None:
    base = f"/admin/backoffice/livesale/{sale.concert_id}"
    orders = operator_client.get(f"{base}/data/").json()["orders"]
    assert orders == {
        "minutes": 10,
        "orders": 5,
        "seats": 12,
        "orders_per_minute": 0.5,
        "seats_per_order": 2.4,
        "sizes": {"1": 1, "2": 2, "3": 1, "4": 1},
    }
    page = operator_client.get(f"{base}/change/").content.decode()
    assert 'id="live-sale-orders"' in page
    for key in ("minutes", "orders", "orders_per_minute", "seats", "seats_per_order", "sizes"):
        assert f'data-orders="{key}"' in page, key
