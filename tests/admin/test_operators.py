"""The `operators` group: created by the migration with exactly the routine permissions; an operator can
do each routine job and nothing that would break an invariant. Status, balance and amount fields are
read-only in every admin."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client, RequestFactory

from concerts.models import Concert, Seat
from payments.models import Payment
from points.models import Wallet
from tests.booking import booker_for, on_sale_schedule
from tests.factories import ConcertFactory, UserFactory
from users.operators import OPERATOR_PERMISSIONS, OPERATORS_GROUP

pytestmark = pytest.mark.django_db

EXPECTED = {
    "concerts.view_concert",
    "concerts.add_concert",
    "concerts.change_concert",
    "concerts.view_schedule",
    "concerts.add_schedule",
    "concerts.change_schedule",
    "concerts.view_seat",
    "concerts.add_seat",
    "concerts.change_seat",
    "backoffice.view_salesdashboard",
    "reservations.view_reservation",
    "reservations.change_reservation",
    "reservations.view_order",
    "reservations.change_order",
    "payments.view_payment",
    "points.view_wallet",
    "points.change_wallet",
    "points.view_ledgerentry",
    "queue_app.view_concertqueue",
    "queue_app.change_concertqueue",
    "queue_app.view_queuetoken",
}


def group_permissions(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_the_migration_created_the_group_with_exactly_the_routine_permissions():
    group = Group.objects.get(name=OPERATORS_GROUP)  # no fixture: the data migration made it
    assert group_permissions(group) == EXPECTED
    assert not any(p.startswith(("users.", "auth.", "admin.")) for p in group_permissions(group))
    assert not any(".delete_" in p for p in group_permissions(group))


def test_setup_operators_resets_the_group_to_exactly_the_list(capsys):
    group, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
    group.permissions.add(Permission.objects.get(codename="delete_payment"))
    call_command("setup_operators")
    assert group_permissions(group) == EXPECTED
    assert sum(map(len, OPERATOR_PERMISSIONS.values())) == len(EXPECTED)
    assert "21 permissions" in capsys.readouterr().out


def test_an_operator_sees_the_routine_pages(operator_client):
    schedule = on_sale_schedule(seats=2)
    booker_for(schedule).hold(schedule, 1)
    pages = [
        "/admin/",
        "/admin/concerts/concert/",
        "/admin/concerts/concert/add/",
        f"/admin/concerts/concert/{schedule.concert_id}/change/",
        "/admin/concerts/schedule/add/",
        f"/admin/concerts/schedule/{schedule.pk}/change/",
        "/admin/concerts/seat/",
        "/admin/backoffice/salesdashboard/",
        "/admin/reservations/reservation/",
        "/admin/reservations/order/",
        "/admin/payments/payment/",
        "/admin/points/wallet/",
        "/admin/points/ledgerentry/",
        "/admin/queue_app/concertqueue/",
        f"/admin/queue_app/concertqueue/{schedule.concert_id}/change/",
        f"/admin/autocomplete/?app_label=concerts&model_name=schedule&field_name=concert&term={schedule.concert.name}",
    ]
    for page in pages:
        assert operator_client.get(page).status_code == 200, page
    index = operator_client.get("/admin/").content.decode()
    assert "/admin/users/user/" not in index and "/admin/auth/group/" not in index


def test_an_operator_cannot_delete_or_edit_money_or_accounts(operator_client, operator):
    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    fan.client.post("/api/v1/points/charge", {"amount": 300}, format="json")
    fan.pay(fan.hold(schedule, 1).json()["id"])
    payment = Payment.objects.get()
    seat = Seat.objects.get(schedule=schedule, number=1)
    refused = [
        ("post", f"/admin/payments/payment/{payment.pk}/delete/", {"post": "yes"}),
        ("post", f"/admin/payments/payment/{payment.pk}/change/", {"amount": "1", "status": "REFUNDED"}),
        ("post", "/admin/payments/payment/add/", {}),
        ("post", f"/admin/points/wallet/{fan.user.pk}/change/", {"balance": "999999"}),
        ("post", f"/admin/points/wallet/{fan.user.pk}/delete/", {"post": "yes"}),
        ("post", "/admin/points/ledgerentry/add/", {}),
        ("post", f"/admin/concerts/concert/{schedule.concert_id}/delete/", {"post": "yes"}),
        ("post", f"/admin/concerts/schedule/{schedule.pk}/delete/", {"post": "yes"}),
        ("post", f"/admin/concerts/seat/{seat.pk}/delete/", {"post": "yes"}),
        ("get", "/admin/users/user/", {}),
        ("get", f"/admin/users/user/{operator.pk}/change/", {}),
        ("get", "/admin/auth/group/", {}),
    ]
    for method, url, data in refused:
        assert getattr(operator_client, method)(url, data).status_code == 403, url
    payment.refresh_from_db()
    assert (payment.amount, payment.status) == (100, "COMPLETED")
    assert Wallet.objects.get(pk=fan.user.pk).balance == 200
    assert Concert.objects.filter(pk=schedule.concert_id).exists()
    # The changelist offers no delete action either.
    actions = operator_client.get("/admin/concerts/seat/").context["action_form"].fields["action"].choices
    assert [name for name, _ in actions if name] == ["block_seats", "unblock_seats"]


def test_a_seat_status_cannot_be_set_through_its_form(operator_client):
    schedule = on_sale_schedule(seats=1)
    seat = Seat.objects.get(schedule=schedule)
    response = operator_client.post(
        f"/admin/concerts/seat/{seat.pk}/change/", {"grade": "VIP", "price": "80", "status": "SOLD"}
    )
    assert response.status_code == 302
    seat.refresh_from_db()
    assert (seat.grade, seat.price, seat.status) == ("VIP", 80, "AVAILABLE")


def test_a_staff_member_without_the_group_sees_nothing(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/reservations/reservation/").status_code == 403
    assert client.get("/admin/backoffice/salesdashboard/").status_code == 403
    concert = ConcertFactory()
    assert (
        client.post(f"/admin/queue_app/concertqueue/{concert.pk}/change/", {"action": "pause"}).status_code
        == 403
    )


def test_a_non_staff_user_is_sent_to_the_login_page(db):
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/admin/reservations/reservation/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


PROTECTED_FIELDS = {"status", "balance", "amount", "balance_after", "held_until", "reservation_id"}


def test_status_balance_and_amount_fields_are_read_only_in_every_admin(operator):
    """No admin form, for any registered model, lets a superuser type a status, a balance or an amount."""
    schedule = on_sale_schedule(seats=2)
    fan = booker_for(schedule)
    fan.client.post("/api/v1/points/charge", {"amount": 300}, format="json")
    fan.pay(fan.hold(schedule, 1).json()["id"])
    fan.hold(schedule, 2)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    checked = []
    for model, model_admin in admin.site._registry.items():
        field_names = {f.name for f in model._meta.fields}
        if not field_names & PROTECTED_FIELDS:
            continue
        obj = model._default_manager.first()
        assert obj is not None or model.__name__ == "QueueToken", model
        for instance in {None, obj}:
            if instance is None and not model_admin.has_add_permission(request):
                continue
            form_class = model_admin.get_form(request, instance)
            editable = set(form_class.base_fields) & PROTECTED_FIELDS
            if instance is not None and not model_admin.has_change_permission(request, instance):
                editable = set()
            assert not editable, (model.__name__, editable)
        checked.append(model.__name__)
    assert {"Seat", "Reservation", "Payment", "Wallet", "LedgerEntry", "QueueToken"} <= set(checked)
