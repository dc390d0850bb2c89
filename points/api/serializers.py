from typing import Any

from rest_framework import serializers

from points.models import LedgerEntry
from points.services import CHARGE_MAX, CHARGE_MIN


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF's IntegerField would take "10", 10.0 and true."""

    default_error_messages = {"invalid": "A JSON integer is required."}

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class PointsChargeInput(serializers.Serializer):
    amount = StrictIntegerField(min_value=CHARGE_MIN, max_value=CHARGE_MAX)


class BalanceOutput(serializers.Serializer):
    balance = serializers.IntegerField()


class LedgerEntryOutput(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "balance_after", "created_at"]
        read_only_fields = fields
