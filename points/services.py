"""Moving points. Each function is its own retried transaction, or joins the caller's (a payment, a
cancellation, an idempotent request) so that the points move or not together with the caller's rows.

A balance changes in one guarded statement (`... WHERE balance + delta >= 0 RETURNING balance`): no
read-modify-write, no lost update, never below zero; the ledger row follows in the same transaction."""

from django.contrib.auth import get_user_model
from django.db import connection

from config import clock
from config.db import atomic_with_retry
from config.exceptions import InvalidInput, NotFound
from points.errors import InsufficientPoints
from points.models import LedgerEntry, Wallet

CHARGE_MIN = 1
CHARGE_MAX = 1_000_000

_APPLY_SQL = (
    "UPDATE points_wallet SET balance = balance + %s, updated_at = %s "
    "WHERE user_id = %s AND balance + %s >= 0 RETURNING balance"
)


def _require_int(value: object, *, field: str, low: int | None = None, high: int | None = None) -> int:
    # bool is an int in Python; a charge of True points is a client bug, not 1 point.
    if type(value) is not int:
        raise InvalidInput({field: ["A whole number is required."]})
    if low is not None and value < low:
        raise InvalidInput({field: [f"Ensure this value is greater than or equal to {low}."]})
    if high is not None and value > high:
        raise InvalidInput({field: [f"Ensure this value is less than or equal to {high}."]})
    return value


def _require_text(value: str, *, field: str) -> str:
    if not value or not value.strip():
        raise InvalidInput({field: ["This field may not be blank."]})
    return value


def _balance_apply(*, user_id: int, delta: int) -> int | None:
    """The new balance, or None when there is no wallet or it would go below zero."""
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        cursor.execute(_APPLY_SQL, [delta, now, user_id, delta])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _wallet_ensure(*, user_id: int) -> None:
    # The user FK is checked only at commit: refuse an unknown user now, with a clear error.
    if not get_user_model().objects.filter(pk=user_id).exists():
        raise NotFound("User not found.")
    # ON CONFLICT DO NOTHING (INSERT OR IGNORE on SQLite): two first charges at once both succeed.
    Wallet.objects.bulk_create([Wallet(user_id=user_id)], ignore_conflicts=True)


def _points_move(
    *,
    user_id: int,
    delta: int,
    kind: str,
    reference: str = "",
    reason: str = "",
    actor_id: int | None = None,
) -> int:
    balance = _balance_apply(user_id=user_id, delta=delta)
    if balance is None and delta > 0:  # only a missing wallet stops a credit: create it on first use
        _wallet_ensure(user_id=user_id)
        balance = _balance_apply(user_id=user_id, delta=delta)
    if balance is None:
        raise InsufficientPoints()
    LedgerEntry.objects.create(
        wallet_id=user_id,
        kind=kind,
        amount=delta,
        balance_after=balance,
        reference=reference,
        reason=reason,
        actor_id=actor_id,
    )
    return balance


@atomic_with_retry
def points_charge(*, user_id: int, amount: int) -> int:
    """Add 1..1,000,000 points bought by the user; returns the new balance."""
    amount = _require_int(amount, field="amount", low=CHARGE_MIN, high=CHARGE_MAX)
    return _points_move(user_id=user_id, delta=amount, kind=LedgerEntry.Kind.CHARGE)


@atomic_with_retry
def points_debit(*, user_id: int, amount: int, reference: str) -> int:
    """Pay `amount` points (ledger kind PAYMENT); InsufficientPoints when the balance is short.
    A `reference` is debited at most once (a unique constraint; a second debit is an IntegrityError)."""
    amount = _require_int(amount, field="amount", low=1)
    reference = _require_text(reference, field="reference")
    return _points_move(user_id=user_id, delta=-amount, kind=LedgerEntry.Kind.PAYMENT, reference=reference)


@atomic_with_retry
def points_refund(*, user_id: int, amount: int, reference: str) -> int:
    """Give back `amount` points (ledger kind REFUND); a `reference` is refunded at most once."""
    amount = _require_int(amount, field="amount", low=1)
    reference = _require_text(reference, field="reference")
    return _points_move(user_id=user_id, delta=amount, kind=LedgerEntry.Kind.REFUND, reference=reference)


@atomic_with_retry
def points_adjust(*, user_id: int, amount: int, reason: str, actor_id: int | None) -> int:
    """An operator's correction, signed; it cannot take the balance below zero (InsufficientPoints)."""
    amount = _require_int(amount, field="amount")
    if amount == 0:
        raise InvalidInput({"amount": ["An adjustment cannot be zero."]})
    reason = _require_text(reason, field="reason")
    return _points_move(
        user_id=user_id, delta=amount, kind=LedgerEntry.Kind.ADJUSTMENT, reason=reason, actor_id=actor_id
    )
