from django.conf import settings
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from config import clock
from config.exceptions import InvalidInput
from reservations.models import Order, Reservation, ReservationStatus
from reservations.selectors import order_seats, order_status_now, order_total, reservation_status_now
from reservations.services import order_size

SEAT_NUMBER_MAX = 2**31 - 1


class ReservationCreateInput(serializers.Serializer):
    schedule_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    seat_number = serializers.IntegerField(min_value=1, max_value=SEAT_NUMBER_MAX)


class ReservationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    schedule_id = serializers.IntegerField()
    concert_id = serializers.IntegerField()
    seat_id = serializers.IntegerField()
    seat_number = serializers.IntegerField()
    price = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ChoiceField(choices=ReservationStatus.choices))
    def get_status(self, obj: Reservation) -> str:
        # Always the status as of now: a lapsed hold says EXPIRED whether or not the sweep ran.
        return reservation_status_now(reservation=obj, now=clock.now())


class OrderCreateInput(serializers.Serializer):
    """Chosen seats (`seat_numbers`) or best available (`quantity`, optionally of one `grade`)."""

    schedule_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    seat_numbers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=SEAT_NUMBER_MAX),
        required=False,
        min_length=1,
        help_text="Chosen seats: 1 to MAX_HOLDS_PER_USER distinct numbers, held all or none.",
    )
    quantity = serializers.IntegerField(
        min_value=1, required=False, help_text="Best available: this many seats, adjacent where possible."
    )
    grade = serializers.CharField(max_length=20, required=False, help_text="Best available of this grade.")

    def validate(self, attrs: dict) -> dict:
        try:
            order_size(
                seat_numbers=attrs.get("seat_numbers"),
                quantity=attrs.get("quantity"),
                grade=attrs.get("grade"),
            )
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.fields) from exc
        return attrs


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": SEAT_NUMBER_MAX},
        "minItems": 1,
        "maxItems": settings.MAX_HOLDS_PER_USER,
        "uniqueItems": True,
        "description": "1 to MAX_HOLDS_PER_USER distinct seat numbers, held all or none.",
    }
)
class SeatNumbersField(serializers.ListField):
    """Chosen seat numbers (the schema says they are distinct; OrderCreateInput checks it)."""


class OrderChosenSeatsInput(serializers.Serializer):
    """Chosen seats of one schedule, held all or none."""

    schedule_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    seat_numbers = SeatNumbersField(child=serializers.IntegerField(min_value=1, max_value=SEAT_NUMBER_MAX))


class OrderBestAvailableInput(serializers.Serializer):
    """Best available: the lowest-numbered run of adjacent takeable seats, else the lowest-numbered ones."""

    schedule_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(
        min_value=1, max_value=settings.MAX_HOLDS_PER_USER, help_text="1 to MAX_HOLDS_PER_USER seats."
    )
    grade = serializers.CharField(max_length=20, required=False, help_text="Only seats of this grade.")


# The request body of POST /orders as the schema shows it: exactly one of the two shapes.
ORDER_CREATE_REQUEST = PolymorphicProxySerializer(
    component_name="OrderCreate",
    serializers=[OrderChosenSeatsInput, OrderBestAvailableInput],
    resource_type_field_name=None,
)


class OrderSeatOutput(serializers.Serializer):
    reservation_id = serializers.UUIDField(source="id")
    seat_id = serializers.IntegerField()
    seat_number = serializers.IntegerField()
    grade = serializers.CharField()
    price = serializers.IntegerField()
    status = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=ReservationStatus.choices))
    def get_status(self, obj: Reservation) -> str:
        return reservation_status_now(reservation=obj, now=clock.now())


class OrderOutput(serializers.Serializer):
    id = serializers.UUIDField()
    schedule_id = serializers.IntegerField()
    concert_id = serializers.IntegerField()
    status = serializers.SerializerMethodField()
    seats = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ChoiceField(choices=ReservationStatus.choices))
    def get_status(self, obj: Order) -> str:
        # The status as of now: an unpaid order past its deadline says EXPIRED whether or not the sweep ran.
        return order_status_now(order=obj, now=clock.now())

    @extend_schema_field(OrderSeatOutput(many=True))
    def get_seats(self, obj: Order) -> list[dict]:
        return list(OrderSeatOutput(order_seats(obj), many=True).data)

    @extend_schema_field(serializers.IntegerField(help_text="The sum of the listed seats' prices."))
    def get_total(self, obj: Order) -> int:
        return order_total(obj)
