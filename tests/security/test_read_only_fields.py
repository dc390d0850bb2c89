"""Read-only fields cannot be set through the API: extra members like balance, status, price, user,
user_id, amount or is_staff in a request body are ignored, and the stored rows prove it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from concerts.models import Seat, SeatStatus
from payments.models import Payment
from points.models import LedgerEntry
from points.selectors import wallet_balance
from reservations.models import Reservation, ReservationStatus
from tests.booking import booker_for, on_sale_schedule
from tests.conftest import client_for
from tests.factories import TEST_PASSWORD, ConcertFactory, UserFactory
from tests.factories.points import wallet_fund
from users.models import User

pytestmark = pytest.mark.django_db

FUTURE = (timezone.now() + timedelta(days=365)).isoformat()


def test_registration_cannot_make_staff_or_choose_an_id(api_client):
    victim = UserFactory()
    response = api_client.post(
        "/api/v1/users",
        {
            "name": "Mallory",
            "email": "mallory@example.com",
            "password": "a-long-unusual-passphrase",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "id": victim.pk,
            "user_id": victim.pk,
            "balance": 1_000_000,
            "groups": [1],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    mallory = User.objects.get(email="mallory@example.com")
    assert (mallory.is_staff, mallory.is_superuser, mallory.is_active) == (False, False, True)
    assert mallory.pk != victim.pk and not mallory.groups.exists()
    assert set(response.json()) == {"id", "name", "email"}
    assert wallet_balance(user_id=mallory.pk) == 0
    victim.refresh_from_db()
    assert victim.email != "mallory@example.com" and victim.check_password(TEST_PASSWORD)


def test_login_cannot_choose_whose_token_it_gets(api_client):
    me, victim = UserFactory(), UserFactory()
    response = api_client.post(
        "/api/v1/auth/token",
        {"email": me.email, "password": TEST_PASSWORD, "user_id": victim.pk, "user": victim.pk},
        format="json",
    )
    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    assert api_client.get("/api/v1/users/me").json()["id"] == me.pk


def test_charge_moves_only_the_amount_into_my_own_wallet(user, other_user):
    client = client_for(user)
    response = client.post(
        "/api/v1/points/charge",
        {
            "amount": 100,
            "balance": 999_999,
            "user": other_user.pk,
            "user_id": other_user.pk,
            "kind": "REFUND",
        },
        format="json",
    )
    assert response.json() == {"balance": 100}
    assert wallet_balance(user_id=user.pk) == 100
    assert wallet_balance(user_id=other_user.pk) == 0
    assert list(LedgerEntry.objects.values_list("wallet__user_id", "kind", "amount")) == [
        (user.pk, "CHARGE", 100)
    ]


def test_hold_ignores_price_status_owner_and_deadline_from_the_body():
    schedule = on_sale_schedule(price=150)
    fan, victim = booker_for(schedule), UserFactory()
    other_seat = Seat.objects.get(schedule=schedule, number=9)
    response = fan.client.post(
        "/api/v1/reservations",
        {
            "schedule_id": schedule.pk,
            "seat_number": 3,
            "price": 1,
            "status": "CONFIRMED",
            "user": victim.pk,
            "user_id": victim.pk,
            "seat_id": other_seat.pk,
            "expires_at": FUTURE,
            "concert_id": ConcertFactory().pk,
        },
        format="json",
        HTTP_X_QUEUE_TOKEN=fan.token,
    )
    assert response.status_code == 201, response.content
    stored = Reservation.objects.get(pk=response.json()["id"])
    assert stored.user_id == fan.user.pk and stored.price == 150
    assert stored.status == ReservationStatus.PENDING
    assert stored.seat.number == 3 and stored.schedule_id == schedule.pk
    assert stored.expires_at - stored.created_at == timedelta(seconds=300)
    other_seat.refresh_from_db()
    assert other_seat.status == SeatStatus.AVAILABLE
    assert not Reservation.objects.filter(user_id=victim.pk).exists()


def test_payment_charges_the_reservation_price_to_the_payer_only():
    schedule = on_sale_schedule(price=150)
    fan, victim = booker_for(schedule), UserFactory()
    wallet_fund(user_id=fan.user.pk, amount=1000)
    wallet_fund(user_id=victim.pk, amount=1000)
    held = fan.hold(schedule, 2).json()
    response = fan.client.post(
        "/api/v1/payments",
        {
            "reservation_id": held["id"],
            "amount": 1,
            "status": "REFUNDED",
            "user": victim.pk,
            "user_id": victim.pk,
            "balance": 1_000_000,
        },
        format="json",
        HTTP_X_QUEUE_TOKEN=fan.token,
    )
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == 150 and response.json()["status"] == "COMPLETED"
    payment = Payment.objects.get()
    assert payment.amount == 150
    assert wallet_balance(user_id=fan.user.pk) == 850
    assert wallet_balance(user_id=victim.pk) == 1000


def test_queue_token_issue_ignores_status_position_and_owner(user, other_user):
    concert = ConcertFactory()
    client = client_for(user)
    response = client.post(
        "/api/v1/queue/tokens",
        {
            "concert_id": concert.pk,
            "status": "ACTIVE",
            "position": 0,
            "expires_at": FUTURE,
            "user_id": other_user.pk,
            "token": "chosen-by-client",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "WAITING" and body["position"] == 1 and body["expires_at"] is None
    assert body["token"] != "chosen-by-client"
    # The token is the caller's: another user polling with their Authorization does not find it.
    assert (
        client_for(other_user).get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=body["token"]).status_code
        == 404
    )
    assert client.get("/api/v1/queue/status", HTTP_X_QUEUE_TOKEN=body["token"]).status_code == 200
