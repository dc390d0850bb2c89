import pytest
from django.test import Client

from points.models import LedgerEntry
from points.selectors import ledger_sum_matches_balance, wallet_balance
from tests.factories import UserFactory
from tests.factories.points import wallet_fund

pytestmark = pytest.mark.django_db


def test_wallet_pages_are_read_only_and_searchable_by_email(superuser_client, user, other_user):
    wallet_fund(user_id=user.pk, amount=40)
    wallet_fund(user_id=other_user.pk, amount=40)
    listing = superuser_client.get("/admin/points/wallet/", {"q": user.email})
    assert listing.status_code == 200
    assert user.email in listing.text and other_user.email not in listing.text
    page = superuser_client.get(f"/admin/points/wallet/{user.pk}/change/")
    assert page.status_code == 200
    assert "Adjust balance" in page.text
    assert 'name="balance"' not in page.text  # shown, never editable
    assert superuser_client.get("/admin/points/wallet/add/").status_code == 403
    assert superuser_client.get(f"/admin/points/wallet/{user.pk}/delete/").status_code == 403
    assert superuser_client.get("/admin/points/ledgerentry/", {"kind__exact": "CHARGE"}).status_code == 200


def test_an_adjustment_goes_through_the_ledger_with_reason_and_actor(superuser_client, user):
    wallet_fund(user_id=user.pk, amount=40)
    url = f"/admin/points/wallet/{user.pk}/adjust/"
    assert superuser_client.get(url).status_code == 200
    response = superuser_client.post(url, {"amount": "-15", "reason": "double charge at the box office"})
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind="ADJUSTMENT")
    assert (entry.amount, entry.reason, entry.actor.is_staff) == (
        -15,
        "double charge at the box office",
        True,
    )
    assert wallet_balance(user_id=user.pk) == 25
    assert ledger_sum_matches_balance(user_id=user.pk)


@pytest.mark.parametrize(("amount", "reason"), [("-26", "too much"), ("0", "nothing"), ("5", "")])
def test_a_refused_adjustment_changes_nothing(superuser_client, user, amount, reason):
    wallet_fund(user_id=user.pk, amount=25)
    response = superuser_client.post(
        f"/admin/points/wallet/{user.pk}/adjust/", {"amount": amount, "reason": reason}
    )
    assert response.status_code == 200  # the form again, with its error
    assert "errorlist" in response.text
    assert wallet_balance(user_id=user.pk) == 25
    assert not LedgerEntry.objects.filter(kind="ADJUSTMENT").exists()


def test_staff_without_the_permission_cannot_adjust(user):
    wallet_fund(user_id=user.pk, amount=25)
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    response = client.post(f"/admin/points/wallet/{user.pk}/adjust/", {"amount": "5", "reason": "x"})
    assert response.status_code == 403
    assert wallet_balance(user_id=user.pk) == 25
