from config.exceptions import DomainError, NotFound


class ReservationNotFound(NotFound):
    default_detail = "Reservation not found."


class SeatNotFound(NotFound):
    default_detail = "No such seat in this schedule."


class SeatUnavailable(DomainError):
    code = "seat_unavailable"
    status_code = 409
    default_detail = "This seat is held or sold."


class HoldLimitReached(DomainError):
    code = "hold_limit_reached"
    status_code = 409
    default_detail = "You already hold the maximum number of seats; pay or cancel one first."


class ScheduleClosed(DomainError):
    code = "schedule_closed"
    status_code = 409
    default_detail = "Sales for this schedule are not open."


class ReservationNotCancellable(DomainError):
    code = "reservation_not_cancellable"
    status_code = 409
    default_detail = "This reservation can no longer be cancelled."


class ReservationExpired(DomainError):
    code = "reservation_expired"
    status_code = 409
    default_detail = "The hold on this seat has expired."


class ReservationNotPending(DomainError):
    code = "reservation_not_pending"
    status_code = 409
    default_detail = "This reservation is not waiting for payment."


class NotEnoughSeats(DomainError):
    code = "not_enough_seats"
    status_code = 409
    default_detail = "Fewer seats than asked for remain on sale for this schedule."


class OrderNotFound(NotFound):
    default_detail = "Order not found."


class OrderNotCancellable(DomainError):
    code = "order_not_cancellable"
    status_code = 409
    default_detail = "This order can no longer be cancelled."
