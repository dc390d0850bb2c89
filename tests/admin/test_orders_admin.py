"""Orders in admin: the list (seats, total, the status a reader sees now) with its filters and search, a
read-only detail page with the order's seats and payment, a bounded number of queries per page, and the
operator's cancel-and-refund of a whole order (through the booking service, once, in the history)."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from concerts.models import Seat, SeatStatus
from payments.models import Payment, PaymentStatus
from points.models import LedgerEntry
from points.selectors import ledger_sum_matches_balance, wallet_balance
from reservations.models import Order, ReservationStatus
from tests.booking import booker_for, lapse_order, on_sale_schedule
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reservations/order/"


def shown(response) -> set[str]:
    """The order ids listed on a changelist page."""
    assert response.status_code == 200
    return {str(o.pk) for o in response.context["cl"].result_list}


def row_of(page: str, order_id: str) -> str:
    """The changelist's table row of one order."""
    start = page.index(f"/admin/reservations/order/{order_id}/change/")
    return page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]


def detail(client, order_id) -> str:
    """An order's page, with the whitespace between tags dropped."""
    response = client.get(f"{CHANGELIST}{order_id}/change/")
    assert response.status_code == 200
    return re.sub(r">\s+<", "><", response.content.decode())


def seat_rows(page: str) -> list[tuple[int, int, str]]:
    """(seat number, price, status) of each row of the seats inline."""
    cells = re.findall(
        r'<td class="field-seat_number"><p>(\d+)</p></td><td class="field-price"><p>(\d+)</p></td>'
        r'<td class="field-status_now"><p>(\w+)</p></td>',
        page,
    )
    return [(int(number), int(price), status) for number, price, status in cells]


def readonly(page: str, label: str) -> str:
    """The value shown beside a read-only field's label."""
    found = re.search(rf'<label>{label}:</label><div class="readonly">(.*?)</div>', page)
    assert found, label
    return found.group(1)


@pytest.fixture
def orders():
    """Alice: a paid order of seats 3-5 with seat 4 then cancelled on its own, and a held order of 1-2;
    Bob, another concert: an order of one seat that lapsed (no job ran)."""
    first = on_sale_schedule(seats=6, price=100)
    second = on_sale_schedule(seats=3, price=70)
    alice = UserFactory(email="alice@example.com")
    paying = booker_for(first, alice)
    assert paying.client.post("/api/v1/points/charge", {"amount": 1000}, format="json").status_code == 200
    paid = paying.order(first, seat_numbers=[3, 4, 5]).json()
    assert paying.pay_order(paid["id"]).status_code == 201
    seat_4 = next(s["reservation_id"] for s in paid["seats"] if s["seat_number"] == 4)
    assert paying.client.post(f"/api/v1/reservations/{seat_4}/cancel").status_code == 200
    held = booker_for(first, alice).order(first, seat_numbers=[1, 2]).json()
    bob = booker_for(second, UserFactory(email="bob@example.com"))
    lapsed = bob.order(second, seat_numbers=[2]).json()
    lapse_order(lapsed["id"])
    return {
        "first": first,
        "second": second,
        "alice": alice,
        "paid": paid["id"],
        "held": held["id"],
        "lapsed": lapsed["id"],
    }


def test_the_list_shows_seats_total_and_the_status_now(operator_client, orders):
    o = orders
    page = operator_client.get(CHANGELIST).content.decode()
    paid, held, lapsed = (row_of(page, o[k]) for k in ("paid", "held", "lapsed"))
    # The paid order lists the seats it still has; its total is what they cost.
    assert '<td class="field-seat_numbers">3, 5</td>' in paid and '<td class="field-total">200</td>' in paid
    assert '<td class="field-status_now">CONFIRMED</td>' in paid and "alice@example.com" in paid
    assert '<td class="field-seat_numbers">1, 2</td>' in held and '<td class="field-total">200</td>' in held
    assert '<td class="field-status_now">PENDING</td>' in held
    assert '<td class="field-status_now">EXPIRED</td>' in lapsed  # PENDING in the row, past its deadline
    assert '<td class="field-total">70</td>' in lapsed and o["second"].concert.name in lapsed


def test_filters_by_status_now_concert_and_user_and_search_by_email_or_id(operator_client, orders):
    o = orders
    assert shown(operator_client.get(CHANGELIST)) == {o["paid"], o["held"], o["lapsed"]}
    assert shown(operator_client.get(CHANGELIST, {"status_now": "PENDING"})) == {o["held"]}
    assert shown(operator_client.get(CHANGELIST, {"status_now": "EXPIRED"})) == {o["lapsed"]}
    assert shown(operator_client.get(CHANGELIST, {"status_now": "CONFIRMED"})) == {o["paid"]}
    by_concert = operator_client.get(CHANGELIST, {"concert__id__exact": o["first"].concert_id})
    assert shown(by_concert) == {o["paid"], o["held"]}
    assert shown(operator_client.get(CHANGELIST, {"user": "ALICE@example.com"})) == {o["paid"], o["held"]}
    assert shown(operator_client.get(CHANGELIST, {"q": "bob@example"})) == {o["lapsed"]}
    assert shown(operator_client.get(CHANGELIST, {"q": o["held"]})) == {o["held"]}


def test_the_detail_page_is_read_only_with_its_seats_and_payment(operator_client, orders):
    page = detail(operator_client, orders["paid"])
    assert "alice@example.com" in page and 'name="_save"' not in page and 'name="status"' not in page
    # Every seat the order was placed with, the one cancelled on its own included.
    assert seat_rows(page) == [(3, 100, "CONFIRMED"), (4, 100, "CANCELLED"), (5, 100, "CONFIRMED")]
    assert [readonly(page, label) for label in ("Status", "Seats", "Total")] == ["CONFIRMED", "3, 5", "200"]
    assert [readonly(page, label) for label in ("Paid", "Refunded", "Payment status")] == [
        "300",
        "100",
        "COMPLETED",
    ]
    held = detail(operator_client, orders["held"])
    assert seat_rows(held) == [(1, 100, "PENDING"), (2, 100, "PENDING")]
    assert [readonly(held, label) for label in ("Paid", "Payment status")] == ["-", "-"]  # unpaid
    lapsed = detail(operator_client, orders["lapsed"])
    assert readonly(lapsed, "Status") == "EXPIRED" and seat_rows(lapsed) == [(2, 70, "EXPIRED")]
    url = f"{CHANGELIST}{orders['paid']}/change/"
    assert operator_client.post(url, {"status": "CANCELLED"}).status_code == 403
    assert operator_client.get(f"{CHANGELIST}add/").status_code == 403
    assert Order.objects.get(pk=orders["paid"]).status == ReservationStatus.CONFIRMED


def test_the_list_query_count_does_not_grow_with_orders(operator_client, orders):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert operator_client.get(CHANGELIST).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for _ in range(5):
        schedule = on_sale_schedule(seats=3)
        fan = booker_for(schedule)
        fan.client.post("/api/v1/points/charge", {"amount": 500}, format="json")
        fan.pay_order(fan.order(schedule, seat_numbers=[1, 2]).json()["id"])
    assert Order.objects.count() == 8
    assert queries() == few
    assert few <= 12  # session, user, permissions, concerts (filter), counts, orders, seats, dates


def history(order_id) -> list[str]:
    return [
        f"{e.user.email}: {e.get_change_message()}"
        for e in LogEntry.objects.filter(object_id=str(order_id), content_type__model="order").order_by("id")
    ]


def test_cancel_and_refund_refunds_what_is_still_paid_once(operator_client, operator, orders):
    o = orders
    alice = o["alice"]
    assert wallet_balance(user_id=alice.pk) == 800  # 1000 - 300 + 100 for seat 4
    response = operator_client.post(
        CHANGELIST, {"action": "cancel_and_refund", "_selected_action": [o["paid"]]}, follow=True
    )
    assert "Cancelled: 1 order(s)." in response.content.decode()
    order_refunds = LedgerEntry.objects.filter(
        wallet_id=alice.pk, kind="REFUND", reference=f"order:{o['paid']}"
    )
    assert [r.amount for r in order_refunds] == [200]  # seats 3 and 5; seat 4 went back on its own
    payment = Payment.objects.get(order_id=o["paid"])
    assert (payment.refunded_amount, payment.status) == (300, PaymentStatus.REFUNDED)
    assert wallet_balance(user_id=alice.pk) == 1000 and ledger_sum_matches_balance(user_id=alice.pk)
    assert Order.objects.get(pk=o["paid"]).status == ReservationStatus.CANCELLED
    seats = Seat.objects.filter(schedule=o["first"], number__in=[3, 4, 5])
    assert {s.status for s in seats} == {SeatStatus.AVAILABLE}
    assert history(o["paid"]) == [f"{operator.email}: Cancelled by operator (now CANCELLED)"]

    again = operator_client.post(
        CHANGELIST, {"action": "cancel_and_refund", "_selected_action": [o["paid"]]}, follow=True
    ).content.decode()
    assert f"Not cancelled: {o['paid']}: This order can no longer be cancelled." in again
    assert "Cancelled: 1 order(s)." not in again
    assert LedgerEntry.objects.filter(wallet_id=alice.pk, kind="REFUND").count() == 2  # seat 4, then the rest
    assert wallet_balance(user_id=alice.pk) == 1000
    assert len(history(o["paid"])) == 1


def test_cancel_releases_a_held_order_and_refuses_a_lapsed_one(operator_client, orders):
    o = orders
    response = operator_client.post(
        CHANGELIST, {"action": "cancel_and_refund", "_selected_action": [o["held"], o["lapsed"]]}, follow=True
    ).content.decode()
    assert "Cancelled: 1 order(s)." in response and f"Not cancelled: {o['lapsed']}:" in response
    assert Order.objects.get(pk=o["held"]).status == ReservationStatus.CANCELLED
    assert {s.status for s in Seat.objects.filter(schedule=o["first"], number__in=[1, 2])} == {
        SeatStatus.AVAILABLE
    }
    assert not LedgerEntry.objects.filter(kind="REFUND", reference=f"order:{o['held']}").exists()
