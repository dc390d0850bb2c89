"""Real threads on real PostgreSQL: each thread has its own connection and transaction."""

import pytest
from django.db import IntegrityError

from points.errors import InsufficientPoints
from points.models import LedgerEntry, Wallet
from points.selectors import ledger_mismatches, wallet_balance
from points.services import points_charge, points_debit
from tests.concurrency.runner import run_n_concurrently
from tests.factories.points import wallet_fund

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only("concurrency is tested on PostgreSQL"),
]


def test_50_concurrent_first_charges_add_up_exactly(user):
    # No wallet yet: the threads also race to create it.
    results = run_n_concurrently(lambda i: points_charge(user_id=user.pk, amount=i + 1), 50)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert wallet_balance(user_id=user.pk) == sum(range(1, 51))
    assert LedgerEntry.objects.filter(wallet_id=user.pk, kind="CHARGE").count() == 50
    assert Wallet.objects.count() == 1
    # Every intermediate balance was seen exactly once: no two charges read the same starting point.
    assert len(set(LedgerEntry.objects.values_list("balance_after", flat=True))) == 50
    assert ledger_mismatches() == []


def test_concurrent_debits_never_overdraw(user):
    wallet_fund(user_id=user.pk, amount=1000)
    results = run_n_concurrently(
        lambda i: points_debit(user_id=user.pk, amount=100, reference=f"payment:{i}"), 30
    )
    assert sum(isinstance(r, int) for r in results) == 10
    assert sum(isinstance(r, InsufficientPoints) for r in results) == 20
    assert wallet_balance(user_id=user.pk) == 0
    assert LedgerEntry.objects.filter(kind="PAYMENT").count() == 10
    assert ledger_mismatches() == []


def test_concurrent_charges_and_debits_keep_the_ledger_equal_to_the_balance(user):
    wallet_fund(user_id=user.pk, amount=50)

    def move(i: int) -> int:
        if i % 2:
            return points_charge(user_id=user.pk, amount=7)
        return points_debit(user_id=user.pk, amount=13, reference=f"payment:{i}")

    results = run_n_concurrently(move, 40)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientPoints)]
    assert not unexpected, unexpected
    debited = sum(1 for i, r in enumerate(results) if i % 2 == 0 and isinstance(r, int))
    assert wallet_balance(user_id=user.pk) == 50 + 20 * 7 - debited * 13
    assert ledger_mismatches() == []


def test_one_payment_reference_is_debited_once_under_concurrency(user):
    wallet_fund(user_id=user.pk, amount=1000)
    results = run_n_concurrently(
        lambda i: points_debit(user_id=user.pk, amount=100, reference="payment:42"), 10
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert all(isinstance(r, int | IntegrityError) for r in results), results
    assert wallet_balance(user_id=user.pk) == 900
    assert ledger_mismatches() == []
