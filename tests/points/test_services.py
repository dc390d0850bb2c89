import pytest
from django.db import IntegrityError, transaction

from config.exceptions import InvalidInput, NotFound
from points.errors import InsufficientPoints
from points.models import LedgerEntry, Wallet
from points.selectors import ledger_list, ledger_mismatches, ledger_sum_matches_balance, wallet_balance
from points.services import points_adjust, points_charge, points_debit, points_refund
from tests.factories import UserFactory
from tests.factories.points import wallet_fund

pytestmark = pytest.mark.django_db


def kinds_and_amounts(user_id: int) -> list[tuple[str, int, int]]:
    return [(e.kind, e.amount, e.balance_after) for e in ledger_list(user_id=user_id)]


@pytest.mark.embedded
def test_charge_creates_the_wallet_and_writes_one_ledger_row(user):
    assert wallet_balance(user_id=user.pk) == 0
    assert points_charge(user_id=user.pk, amount=500) == 500
    assert points_charge(user_id=user.pk, amount=250) == 750
    assert Wallet.objects.get(pk=user.pk).balance == 750
    assert kinds_and_amounts(user.pk) == [("CHARGE", 250, 750), ("CHARGE", 500, 500)]
    assert ledger_sum_matches_balance(user_id=user.pk)


@pytest.mark.embedded
def test_debit_and_refund_move_points_with_signed_ledger_rows(user):
    wallet_fund(user_id=user.pk, amount=1000)
    assert points_debit(user_id=user.pk, amount=300, reference="payment:1") == 700
    assert points_refund(user_id=user.pk, amount=300, reference="payment:1") == 1000
    assert kinds_and_amounts(user.pk)[:2] == [("REFUND", 300, 1000), ("PAYMENT", -300, 700)]
    assert ledger_sum_matches_balance(user_id=user.pk)


@pytest.mark.embedded
def test_debit_beyond_the_balance_is_refused_and_changes_nothing(user):
    wallet_fund(user_id=user.pk, amount=100)
    with pytest.raises(InsufficientPoints):
        points_debit(user_id=user.pk, amount=101, reference="payment:1")
    assert wallet_balance(user_id=user.pk) == 100
    assert LedgerEntry.objects.filter(wallet_id=user.pk).count() == 1
    assert points_debit(user_id=user.pk, amount=100, reference="payment:1") == 0


def test_debit_without_a_wallet_is_insufficient_points(user):
    with pytest.raises(InsufficientPoints) as caught:
        points_debit(user_id=user.pk, amount=1, reference="payment:1")
    assert (caught.value.status_code, caught.value.code) == (409, "insufficient_points")
    assert not Wallet.objects.filter(pk=user.pk).exists()


def test_a_payment_reference_is_debited_once_and_refunded_once(user):
    wallet_fund(user_id=user.pk, amount=1000)
    points_debit(user_id=user.pk, amount=10, reference="payment:7")
    with pytest.raises(IntegrityError):
        points_debit(user_id=user.pk, amount=10, reference="payment:7")
    points_refund(user_id=user.pk, amount=10, reference="payment:7")
    with pytest.raises(IntegrityError):
        points_refund(user_id=user.pk, amount=10, reference="payment:7")
    assert wallet_balance(user_id=user.pk) == 1000
    assert ledger_sum_matches_balance(user_id=user.pk)


@pytest.mark.parametrize("amount", [0, -1, 1_000_001, True, "10", 10.0, None])
def test_charge_rejects_amounts_outside_the_contract(user, amount):
    with pytest.raises(InvalidInput) as caught:
        points_charge(user_id=user.pk, amount=amount)
    assert "amount" in caught.value.fields
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("amount", "reference", "field"), [(0, "p:1", "amount"), (-5, "p:1", "amount"), (5, "", "reference")]
)
def test_debit_and_refund_validate_their_arguments(user, amount, reference, field):
    wallet_fund(user_id=user.pk, amount=100)
    for service in (points_debit, points_refund):
        with pytest.raises(InvalidInput) as caught:
            service(user_id=user.pk, amount=amount, reference=reference)
        assert field in caught.value.fields
    assert wallet_balance(user_id=user.pk) == 100


def test_charge_for_an_unknown_user_is_not_found(db):
    with pytest.raises(NotFound):
        points_charge(user_id=987654, amount=10)
    assert not Wallet.objects.exists()


def test_adjust_records_reason_and_actor_and_cannot_go_below_zero(user):
    operator = UserFactory(is_staff=True)
    assert points_adjust(user_id=user.pk, amount=50, reason="goodwill", actor_id=operator.pk) == 50
    assert points_adjust(user_id=user.pk, amount=-20, reason="correction", actor_id=None) == 30
    with pytest.raises(InsufficientPoints):
        points_adjust(user_id=user.pk, amount=-31, reason="too much", actor_id=operator.pk)
    entry = ledger_list(user_id=user.pk).last()
    assert (entry.kind, entry.amount, entry.reason, entry.actor_id) == (
        "ADJUSTMENT",
        50,
        "goodwill",
        operator.pk,
    )
    assert wallet_balance(user_id=user.pk) == 30
    assert ledger_sum_matches_balance(user_id=user.pk)


@pytest.mark.parametrize(
    ("amount", "reason", "field"), [(0, "x", "amount"), (5, "  ", "reason"), (True, "x", "amount")]
)
def test_adjust_validates_its_arguments(user, amount, reason, field):
    with pytest.raises(InvalidInput) as caught:
        points_adjust(user_id=user.pk, amount=amount, reason=reason, actor_id=None)
    assert field in caught.value.fields


@pytest.mark.embedded
def test_services_join_the_callers_transaction(user):
    wallet_fund(user_id=user.pk, amount=100)
    with pytest.raises(RuntimeError), transaction.atomic():
        points_debit(user_id=user.pk, amount=40, reference="payment:1")
        raise RuntimeError("the payment failed after the debit")
    assert wallet_balance(user_id=user.pk) == 100
    assert not LedgerEntry.objects.filter(kind="PAYMENT").exists()


def test_ledger_mismatches_reports_only_broken_wallets(user, other_user):
    wallet_fund(user_id=user.pk, amount=10)
    wallet_fund(user_id=other_user.pk, amount=10)
    assert ledger_mismatches() == []
    Wallet.objects.filter(pk=other_user.pk).update(balance=11)  # money without a ledger row
    assert ledger_mismatches() == [other_user.pk]
    assert ledger_sum_matches_balance(user_id=user.pk)
    assert not ledger_sum_matches_balance(user_id=other_user.pk)
