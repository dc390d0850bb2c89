from rest_framework import serializers

from payments.models import PaymentStatus


class StrictUUIDField(serializers.UUIDField):
    """Only a UUID string: DRF would otherwise turn the integer 12 into a UUID."""

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class PaymentCreateInput(serializers.Serializer):
    reservation_id = StrictUUIDField()


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reservation_id = serializers.UUIDField()
    amount = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    created_at = serializers.DateTimeField()
    refunded_at = serializers.DateTimeField(allow_null=True)
