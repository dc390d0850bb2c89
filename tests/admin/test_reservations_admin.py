"""Sales in admin: reservation filters and search, the release and refund actions (through the services,
recorded in admin history), read-only payments, wallets and the manual adjustment."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from concerts.models import Seat, SeatStatus
from payments.models import Payment, PaymentStatus
from points.models import LedgerEntry
from points.selectors import ledger_sum_matches_balance, wallet_balance
from reservations.models import Reservation, ReservationStatus
from tests.booking import booker_for, lapse, on_sale_schedule
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reservations/reservation/"


def shown(response) -> set[str]:
    """The reservation ids listed on a changelist page."""
    assert response.status_code == 200
    return {str(r.pk) for r in response.context["cl"].result_list}


@pytest.fixture
def sales():
    """Two concerts; a pending hold, a confirmed ticket, a lapsed hold and a cancelled one."""
    first = on_sale_schedule(seats=5, price=100)
    second = on_sale_schedule(seats=5, price=100)
    alice = booker_for(first, UserFactory(email="alice@example.com"))
    bob = booker_for(second, UserFactory(email="bob@example.com"))
    pending = alice.hold(first, 1).json()["id"]
    alice.client.post("/api/v1/points/charge", {"amount": 1000}, format="json")
    confirmed = alice.hold(first, 2).json()["id"]
    assert alice.pay(confirmed).status_code == 201
    lapsed = bob.hold(second, 1).json()["id"]
    lapse(lapsed)
    cancelled = bob.hold(second, 2).json()["id"]
    bob.client.post(f"/api/v1/reservations/{cancelled}/cancel")
    return {
        "first": first,
        "second": second,
        "alice": alice.user,
        "bob": bob.user,
        "pending": pending,
        "confirmed": confirmed,
        "lapsed": lapsed,
        "cancelled": cancelled,
    }


def test_filters_by_status_now_concert_schedule_user_and_date(operator_client, sales):
    s = sales
    assert shown(operator_client.get(CHANGELIST)) == {
        s["pending"],
        s["confirmed"],
        s["lapsed"],
        s["cancelled"],
    }
    assert shown(operator_client.get(CHANGELIST, {"status_now": "PENDING"})) == {s["pending"]}
    assert shown(operator_client.get(CHANGELIST, {"status_now": "EXPIRED"})) == {s["lapsed"]}  # no job ran
    assert shown(operator_client.get(CHANGELIST, {"status_now": "CONFIRMED"})) == {s["confirmed"]}
    assert shown(operator_client.get(CHANGELIST, {"status_now": "CANCELLED"})) == {s["cancelled"]}
    by_concert = operator_client.get(CHANGELIST, {"concert__id__exact": s["first"].concert_id})
    assert shown(by_concert) == {s["pending"], s["confirmed"]}
    by_schedule = operator_client.get(CHANGELIST, {"schedule__id__exact": s["second"].pk})
    assert shown(by_schedule) == {s["lapsed"], s["cancelled"]}
    assert shown(operator_client.get(CHANGELIST, {"user": "ALICE@example.com"})) == {
        s["pending"],
        s["confirmed"],
    }
    assert shown(operator_client.get(CHANGELIST, {"user": str(s["bob"].pk)})) == {s["lapsed"], s["cancelled"]}
    assert shown(operator_client.get(CHANGELIST, {"user": "nobody@example.com"})) == set()
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    day = timedelta(days=1)
    created_today = {"created_at__gte": str(today), "created_at__lt": str(today + day)}
    assert len(shown(operator_client.get(CHANGELIST, created_today))) == 4
    yesterday = {"created_at__gte": str(today - day), "created_at__lt": str(today)}
    assert shown(operator_client.get(CHANGELIST, yesterday)) == set()
    in_a_week = {
        "schedule__starts_at__gte": str(today + 6 * day),
        "schedule__starts_at__lt": str(today + 8 * day),
    }
    assert len(shown(operator_client.get(CHANGELIST, in_a_week))) == 4
    assert shown(operator_client.get(CHANGELIST, {"schedule__starts_at__lt": str(today)})) == set()
    page = operator_client.get(CHANGELIST).content.decode()
    assert 'id="filter-user"' in page and "By user (email or id)" in page


def test_search_by_email_id_and_concert_name(operator_client, sales):
    s = sales
    assert shown(operator_client.get(CHANGELIST, {"q": "bob@example"})) == {s["lapsed"], s["cancelled"]}
    assert shown(operator_client.get(CHANGELIST, {"q": s["confirmed"]})) == {s["confirmed"]}
    s["first"].concert.__class__.objects.filter(pk=s["first"].concert_id).update(name="Midnight Opera")
    assert shown(operator_client.get(CHANGELIST, {"q": "midnight"})) == {
        s["pending"],
        s["confirmed"],
    }


def test_the_list_shows_the_status_a_reader_sees(operator_client, sales):
    page = operator_client.get(CHANGELIST, {"q": sales["lapsed"]}).content.decode()
    assert '<td class="field-status_now">EXPIRED</td>' in page


def history(reservation_id) -> list[str]:
    return [
        f"{e.user.email}: {e.get_change_message()}"
        for e in LogEntry.objects.filter(object_id=str(reservation_id)).order_by("id")
    ]


def test_release_frees_the_hold_and_is_in_the_history(operator_client, operator, sales, api_client):
    s = sales
    selected = [s["pending"], s["confirmed"], s["lapsed"]]
    response = operator_client.post(
        CHANGELIST, {"action": "release_holds", "_selected_action": selected}, follow=True
    )
    text = response.content.decode()
    assert "Released: 1 reservation(s)." in text
    assert text.count("Only a live, unpaid hold can be released.") == 2
    assert Reservation.objects.get(pk=s["pending"]).status == ReservationStatus.CANCELLED
    assert Reservation.objects.get(pk=s["confirmed"]).status == ReservationStatus.CONFIRMED
    seat = Seat.objects.get(schedule=s["first"], number=1)
    assert (seat.status, seat.reservation_id) == (SeatStatus.AVAILABLE, None)
    seats = api_client.get(f"/api/v1/schedules/{s['first'].pk}/seats").json()["results"]
    assert seats[0]["status"] == "AVAILABLE"
    assert history(s["pending"]) == [f"{operator.email}: Released by operator (now CANCELLED)"]
    assert history(s["confirmed"]) == [] and history(s["lapsed"]) == []
    assert operator_client.get(f"{CHANGELIST}{s['pending']}/history/").status_code == 200


def test_cancel_refunds_a_confirmed_ticket_through_the_ledger(operator_client, operator, sales):
    s = sales
    alice = s["alice"]
    assert wallet_balance(user_id=alice.pk) == 900
    response = operator_client.post(
        CHANGELIST,
        {"action": "cancel_and_refund", "_selected_action": [s["confirmed"], s["cancelled"]]},
        follow=True,
    )
    text = response.content.decode()
    assert "Cancelled: 1 reservation(s)." in text and "Not cancelled:" in text
    assert Reservation.objects.get(pk=s["confirmed"]).status == ReservationStatus.CANCELLED
    assert Payment.objects.get(reservation_id=s["confirmed"]).status == PaymentStatus.REFUNDED
    refund = LedgerEntry.objects.get(wallet_id=alice.pk, kind="REFUND")
    assert refund.amount == 100 and refund.reference == f"reservation:{s['confirmed']}"
    assert wallet_balance(user_id=alice.pk) == 1000 and ledger_sum_matches_balance(user_id=alice.pk)
    assert Seat.objects.get(schedule=s["first"], number=2).status == SeatStatus.AVAILABLE
    assert history(s["confirmed"]) == [f"{operator.email}: Cancelled by operator (now CANCELLED)"]


def test_a_reservation_page_is_read_only(operator_client, sales):
    url = f"{CHANGELIST}{sales['pending']}/change/"
    page = operator_client.get(url)
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode() and 'name="_save"' not in page.content.decode()
    assert operator_client.post(url, {"status": "CONFIRMED"}).status_code == 403
    assert Reservation.objects.get(pk=sales["pending"]).status == ReservationStatus.PENDING
    assert operator_client.get(f"{CHANGELIST}add/").status_code == 403


def test_payments_are_read_only(operator_client, sales):
    payment = Payment.objects.get(reservation_id=sales["confirmed"])
    assert operator_client.get("/admin/payments/payment/").status_code == 200
    page = operator_client.get(f"/admin/payments/payment/{payment.pk}/change/")
    assert page.status_code == 200 and 'name="amount"' not in page.content.decode()
    assert (
        operator_client.post(f"/admin/payments/payment/{payment.pk}/change/", {"amount": 1}).status_code
        == 403
    )
    assert (
        operator_client.post(f"/admin/payments/payment/{payment.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Payment.objects.get(pk=payment.pk).amount == 100


def test_operator_adjusts_a_wallet_with_a_reason_and_it_is_in_the_history(operator_client, operator, sales):
    alice = sales["alice"]
    wallet_url = f"/admin/points/wallet/{alice.pk}/"
    page = operator_client.get(f"{wallet_url}change/").content.decode()
    assert "Adjust balance" in page and "PAYMENT" in page  # the ledger inline
    assert 'name="balance"' not in page
    response = operator_client.post(
        f"{wallet_url}adjust/", {"amount": "25", "reason": "goodwill: late doors"}, follow=True
    )
    assert "Balance adjusted; it is now 925." in response.content.decode()
    entry = LedgerEntry.objects.get(wallet_id=alice.pk, kind="ADJUSTMENT")
    assert (entry.amount, entry.reason, entry.actor_id, entry.balance_after) == (
        25,
        "goodwill: late doors",
        operator.pk,
        925,
    )
    assert ledger_sum_matches_balance(user_id=alice.pk)
    log = LogEntry.objects.get(object_id=str(alice.pk), content_type__model="wallet")
    assert (log.user_id, log.get_change_message()) == (
        operator.pk,
        "Adjusted the balance by +25 to 925: goodwill: late doors",
    )
    history_page = operator_client.get(f"{wallet_url}history/").content.decode()
    assert "goodwill: late doors" in history_page


def test_a_refused_adjustment_writes_no_history(operator_client, sales):
    alice = sales["alice"]
    response = operator_client.post(
        f"/admin/points/wallet/{alice.pk}/adjust/", {"amount": "-5000", "reason": "too much"}
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not LogEntry.objects.filter(content_type__model="wallet").exists()
    assert wallet_balance(user_id=alice.pk) == 900
