from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from payments.models import Payment, PaymentStatus
from payments.selectors import payment_reservation_ids


class StrictUUIDField(serializers.UUIDField):
    """Only a UUID string: DRF would otherwise turn the integer 12 into a UUID."""

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class PaymentCreateInput(serializers.Serializer):
    """Exactly one of the two: an order, or one of its seats' reservations (which pays the whole order)."""

    order_id = StrictUUIDField(required=False)
    reservation_id = StrictUUIDField(required=False)

    def validate(self, attrs: dict) -> dict:
        if ("order_id" in attrs) == ("reservation_id" in attrs):
            raise serializers.ValidationError("Give exactly one of order_id and reservation_id.")
        return attrs


class PaymentOfOrderInput(serializers.Serializer):
    order_id = StrictUUIDField()


class PaymentOfReservationInput(serializers.Serializer):
    reservation_id = StrictUUIDField(help_text="Pays the whole order of this reservation.")


# The request body of POST /payments as the schema shows it: exactly one of the two shapes.
PAYMENT_CREATE_REQUEST = PolymorphicProxySerializer(
    component_name="PaymentCreate",
    serializers=[PaymentOfOrderInput, PaymentOfReservationInput],
    resource_type_field_name=None,
)


class PaymentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.UUIDField()
    reservation_id = serializers.UUIDField(
        allow_null=True, help_text="The seat's reservation when the order has one seat; null for several."
    )
    reservation_ids = serializers.SerializerMethodField()
    amount = serializers.IntegerField()
    refunded_amount = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    created_at = serializers.DateTimeField()
    refunded_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_reservation_ids(self, obj: Payment) -> list[str]:
        return [str(pk) for pk in payment_reservation_ids(obj)]
