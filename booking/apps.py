from django.apps import AppConfig


class BookingConfig(AppConfig):
    """The flows that span apps: pay a hold, cancel with a refund, operators' release and refund."""

    name = "booking"
    verbose_name = "Booking"
