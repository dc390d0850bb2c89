"""A wallet per user and its append-only ledger. The balance is a cached sum of the ledger: every
change of one is written with a row of the other in the same transaction (points/services.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Wallet(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, primary_key=True, related_name="wallet"
    )
    balance = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # The last line of defence: no code path, raw SQL included, can overdraw a wallet.
            models.CheckConstraint(condition=Q(balance__gte=0), name="points_wallet_balance_gte_0"),
        ]

    def __str__(self) -> str:
        return f"wallet of user {self.user_id}: {self.balance}"


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "CHARGE"
        PAYMENT = "PAYMENT"
        REFUND = "REFUND"
        ADJUSTMENT = "ADJUSTMENT"  # an operator's manual correction; carries reason and actor

    # The column is user_id: a wallet's primary key is its user's id.
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, db_column="user_id", related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField()  # signed: what this entry added to the balance
    balance_after = models.BigIntegerField()
    reference = models.CharField(
        max_length=100, blank=True, default=""
    )  # "payment:<id>", "reservation:<uuid>"
    reason = models.CharField(max_length=255, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="points_ledger_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="points_ledger_balance_after_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["CHARGE", "REFUND"], amount__gt=0)
                | Q(kind="PAYMENT", amount__lt=0)
                | Q(kind="ADJUSTMENT"),
                name="points_ledger_amount_sign_by_kind",
            ),
            # One payment is debited at most once and refunded at most once, whatever the callers do.
            models.UniqueConstraint(
                fields=["kind", "reference"],
                condition=Q(kind__in=["PAYMENT", "REFUND"]) & ~Q(reference=""),
                name="points_ledger_kind_reference_unique",
            ),
        ]
        indexes = [models.Index(fields=["wallet", "-created_at", "-id"], name="points_ledger_user_created")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} (user {self.wallet_id})"
