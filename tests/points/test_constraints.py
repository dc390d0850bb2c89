"""The database itself refuses what the services never do, should anything bypass them."""

import pytest
from django.db import IntegrityError, connection, transaction

from points.models import LedgerEntry, Wallet
from tests.factories.points import WalletFactory, wallet_fund

pytestmark = pytest.mark.django_db


@pytest.mark.embedded
def test_a_raw_update_cannot_make_a_balance_negative(user):
    wallet_fund(user_id=user.pk, amount=5)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE points_wallet SET balance = balance - 6 WHERE user_id = %s", [user.pk])
    assert Wallet.objects.get(pk=user.pk).balance == 5


@pytest.mark.parametrize(
    ("kind", "amount", "balance_after"),
    [("CHARGE", 0, 0), ("CHARGE", -5, 0), ("PAYMENT", 5, 5), ("REFUND", -5, 0), ("ADJUSTMENT", 5, -1)],
)
def test_ledger_rows_with_impossible_amounts_are_refused(kind, amount, balance_after):
    wallet = WalletFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(wallet=wallet, kind=kind, amount=amount, balance_after=balance_after)


def test_empty_references_are_not_unique_but_payment_references_are(user):
    wallet = WalletFactory(user=user)
    for _ in range(2):
        LedgerEntry.objects.create(wallet=wallet, kind="CHARGE", amount=5, balance_after=5, reference="")
        LedgerEntry.objects.create(wallet=wallet, kind="PAYMENT", amount=-5, balance_after=0, reference="")
    LedgerEntry.objects.create(
        wallet=wallet, kind="PAYMENT", amount=-5, balance_after=0, reference="payment:1"
    )
    LedgerEntry.objects.create(wallet=wallet, kind="REFUND", amount=5, balance_after=5, reference="payment:1")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            wallet=wallet, kind="PAYMENT", amount=-1, balance_after=0, reference="payment:1"
        )
