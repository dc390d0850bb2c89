from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config import clock
from reservations.models import Reservation, ReservationStatus
from reservations.selectors import reservation_status_now


class ReservationCreateInput(serializers.Serializer):
    schedule_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    seat_number = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class ReservationOutput(serializers.Serializer):
    id = serializers.UUIDField()
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
