from config.exceptions import NotFound


class PaymentNotFound(NotFound):
    default_detail = "Payment not found."
