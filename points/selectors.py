from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from points.models import LedgerEntry, Wallet


def wallet_balance(*, user_id: int) -> int:
    """The user's balance; 0 before the first charge (no wallet yet)."""
    balance = Wallet.objects.filter(pk=user_id).values_list("balance", flat=True).first()
    return balance or 0


def ledger_list(*, user_id: int) -> QuerySet[LedgerEntry]:
    """The user's ledger, newest first."""
    return LedgerEntry.objects.filter(wallet_id=user_id).order_by("-created_at", "-id")


def ledger_mismatches(*, user_ids: list[int] | None = None) -> list[int]:
    """Users whose balance differs from the sum of their ledger (the invariant; empty when it holds)."""
    ledger_sum = (
        LedgerEntry.objects.filter(wallet_id=OuterRef("pk"))
        .order_by()
        .values("wallet_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    wallets = Wallet.objects.annotate(ledger_total=Coalesce(Subquery(ledger_sum), Value(0)))
    if user_ids is not None:
        wallets = wallets.filter(pk__in=user_ids)
    return list(wallets.exclude(balance=F("ledger_total")).values_list("pk", flat=True).order_by("pk"))


def ledger_sum_matches_balance(*, user_id: int) -> bool:
    return not ledger_mismatches(user_ids=[user_id])
