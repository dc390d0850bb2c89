"""The chaos suite's invariant queries can fail: on a sale made through the API (orders paid by order and
by seat, refunded seat by seat and whole, pending orders with a seat let go) every query finds nothing;
then each corruption of one row makes its invariant report that row, or the database refuses it."""

from dataclasses import dataclass

import pytest
from django.db import IntegrityError, connection, transaction

from points.services import points_charge
from reservations.models import Reservation
from tests.booking import booker_for, on_sale_schedule
from tests.chaos.invariants import SQL_INVARIANTS

pytestmark = pytest.mark.django_db


@dataclass
class Sale:
    paid_then_one_seat_back: str  # order of seats 1-3, paid by order, seat 3 refunded alone
    paid_then_all_back: str  # order of seats 4-5, paid by a seat, then cancelled whole
    single: str  # seat 6 held alone and paid
    pending_one_let_go: str  # order of seats 7-8, unpaid, seat 8 let go
    pending: str  # order of seats 9-10, unpaid
    seat_ids: dict[int, int]
    reservation_of: dict[int, str]  # seat number -> its latest reservation


def offending(name: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(SQL_INVARIANTS[name])
        return cursor.fetchall()


def fan(schedule):
    booker = booker_for(schedule)
    points_charge(user_id=booker.user.pk, amount=10_000)
    return booker


@pytest.fixture
def sale() -> Sale:
    schedule = on_sale_schedule(seats=12, price=100)
    a = fan(schedule)
    first = a.order(schedule, seat_numbers=[1, 2, 3]).json()
    assert a.pay_order(first["id"]).status_code == 201
    assert (
        a.client.post(f"/api/v1/reservations/{first['seats'][2]['reservation_id']}/cancel").status_code == 200
    )
    b = fan(schedule)
    second = b.order(schedule, seat_numbers=[4, 5]).json()
    assert b.pay(second["seats"][0]["reservation_id"]).status_code == 201
    assert b.client.post(f"/api/v1/orders/{second['id']}/cancel").status_code == 200
    c = fan(schedule)
    single = c.hold(schedule, 6).json()
    assert c.pay(single["id"]).status_code == 201
    d = fan(schedule)
    let_go = d.order(schedule, seat_numbers=[7, 8]).json()
    assert (
        d.client.post(f"/api/v1/reservations/{let_go['seats'][1]['reservation_id']}/cancel").status_code
        == 200
    )
    pending = fan(schedule).order(schedule, seat_numbers=[9, 10]).json()
    return Sale(
        paid_then_one_seat_back=first["id"],
        paid_then_all_back=second["id"],
        single=single["order_id"],
        pending_one_let_go=let_go["id"],
        pending=pending["id"],
        seat_ids=dict(schedule.seats.values_list("number", "id")),
        reservation_of={
            r.seat_number: str(r.pk)
            for r in Reservation.objects.filter(schedule=schedule).order_by("created_at")
        },
    )


def test_a_sale_made_through_the_api_breaks_no_invariant(sale):
    assert {name: offending(name) for name in SQL_INVARIANTS if offending(name)} == {}


# (invariant, corruption): the corruption's SQL is formatted with the sale's ids
CORRUPTIONS = [
    (
        "no seat in two live orders: at most one live reservation per seat",
        "UPDATE reservations_reservation SET status = 'PENDING', seat_id = {seat[9]} WHERE id = '{res[8]}'",
    ),
    (
        "every SOLD seat belongs to a CONFIRMED reservation of that seat",
        "UPDATE concerts_seat SET reservation_id = '{res[1]}' WHERE id = {seat[2]}",
    ),
    (
        "a HELD seat belongs to its PENDING reservation",
        "UPDATE concerts_seat SET reservation_id = '{res[10]}' WHERE id = {seat[9]}",
    ),
    (
        "every SOLD seat has exactly one COMPLETED payment, its reservation's order's",
        "UPDATE payments_payment SET order_id = '{pending}' WHERE order_id = '{single}'",
    ),
    (
        "no reservation CONFIRMED without its order CONFIRMED and paid and its SOLD seat",
        "UPDATE concerts_seat SET status = 'HELD', held_until = now() WHERE id = {seat[6]}",
    ),
    (
        "one payment per order, of the order's user, its reservation_id (if any) a seat of that order",
        "UPDATE payments_payment SET reservation_id = '{res[9]}' "
        "WHERE order_id = '{paid_then_one_seat_back}'",
    ),
    (
        "one PAYMENT ledger row per payment, of exactly its amount, by its user",
        "UPDATE points_ledgerentry SET amount = -99 WHERE reference = 'order:{single}' AND kind = 'PAYMENT'",
    ),
    (
        "no PAYMENT ledger row without its payment (no double debit)",
        "UPDATE points_ledgerentry SET reference = 'order:{pending}' "
        "WHERE reference = 'order:{single}' AND kind = 'PAYMENT'",
    ),
    (
        "a payment's amount is its paid seats' prices; refunded_amount the prices of those cancelled since",
        "UPDATE reservations_reservation SET price = 50 WHERE id = '{res[1]}'",
    ),
    (
        "refunds never exceed what was paid: its REFUND rows sum to refunded_amount <= amount",
        "UPDATE points_ledgerentry SET amount = amount + 1 WHERE reference = 'reservation:{res[3]}'",
    ),
    (
        "no REFUND ledger row without a paid order or paid seat it refunds",
        "UPDATE points_ledgerentry SET reference = 'reservation:{res[8]}' "
        "WHERE reference = 'reservation:{res[3]}'",
    ),
    (
        "a payment is COMPLETED on a CONFIRMED order, REFUNDED (all back) on a CANCELLED one",
        "UPDATE reservations_order SET status = 'CANCELLED' WHERE id = '{single}'",
    ),
    (
        "a CONFIRMED order has its payment; a PENDING or EXPIRED one none",
        "UPDATE reservations_order SET status = 'CONFIRMED' WHERE id = '{pending}'",
    ),
    (
        "an order's seats all held or none: a PENDING order's seats PENDING with its deadline (or let go)",
        "UPDATE reservations_reservation SET expires_at = expires_at + interval '1 minute' "
        "WHERE id = '{res[10]}'",
    ),
    (
        "an order's seats all held or none: a PENDING order's seats PENDING with its deadline (or let go)",
        "UPDATE reservations_reservation SET status = 'EXPIRED' WHERE id = '{res[7]}'",
    ),
    (
        "a CONFIRMED order's seats CONFIRMED or CANCELLED, at least one CONFIRMED",
        "UPDATE reservations_reservation SET status = 'CANCELLED' WHERE id IN ('{res[1]}', '{res[2]}')",
    ),
    (
        "no live reservation in a CANCELLED or EXPIRED order",
        "UPDATE reservations_order SET status = 'EXPIRED' WHERE id = '{pending}'",
    ),
    (
        "every order has a seat; its seats are of its user, schedule and concert",
        "UPDATE reservations_reservation SET order_id = '{pending}' WHERE order_id = '{pending_one_let_go}'",
    ),
    (
        "every wallet balance equals the sum of its ledger",
        "UPDATE points_wallet SET balance = balance + 1 "
        "WHERE user_id = (SELECT user_id FROM reservations_order WHERE id = '{single}')",
    ),
    (
        "no negative balance (wallets and ledger balance_after)",
        "UPDATE points_wallet SET balance = -1 "
        "WHERE user_id = (SELECT user_id FROM reservations_order WHERE id = '{single}')",
    ),
]


@pytest.mark.parametrize(("name", "corruption"), CORRUPTIONS, ids=[f"{i}" for i in range(len(CORRUPTIONS))])
def test_each_invariant_reports_a_row_that_breaks_it(sale, name, corruption):
    sql = corruption.format(seat=sale.seat_ids, res=sale.reservation_of, **vars(sale))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
            assert cursor.rowcount >= 1, "the corruption must change a row"
    except IntegrityError:
        return  # the database itself refuses this breach: the invariant is backed by a constraint
    assert offending(name), f"{name!r} missed: {sql}"
