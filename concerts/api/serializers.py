from rest_framework import serializers

from concerts.models import SeatStatus

PUBLIC_SEAT_STATUSES = [SeatStatus.AVAILABLE.value, SeatStatus.HELD.value, SeatStatus.SOLD.value]


class ConcertOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    price = serializers.IntegerField()
    venue = serializers.CharField()
    next_schedule_at = serializers.DateTimeField(allow_null=True)


class ConcertDetailOutput(ConcertOutput):
    description = serializers.CharField()
    sales_open_at = serializers.DateTimeField(
        allow_null=True, help_text="When the queue starts admitting; null: open now."
    )
    sold_out = serializers.BooleanField(
        help_text="No seat of the concert's schedules on sale is AVAILABLE or HELD any more."
    )


class ScheduleListQuery(serializers.Serializer):
    date = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])


class ScheduleOutput(serializers.Serializer):
    id = serializers.IntegerField()
    concert_id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    sales_close_at = serializers.DateTimeField(allow_null=True)
    available_seats = serializers.IntegerField()
    total_seats = serializers.IntegerField()


class SeatListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=PUBLIC_SEAT_STATUSES, required=False)


class SeatOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    grade = serializers.CharField()
    price = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PUBLIC_SEAT_STATUSES, source="public_status")
