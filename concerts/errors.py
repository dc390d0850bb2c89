from config.exceptions import DomainError, NotFound


class ConcertNotFound(NotFound):
    default_detail = "Concert not found."


class ScheduleNotFound(NotFound):
    default_detail = "Schedule not found."


class SeatNotBlockable(DomainError):
    code = "seat_not_blockable"
    status_code = 409
    default_detail = "Only an available seat (or one whose hold has lapsed) can be blocked."


class SeatNotBlocked(DomainError):
    code = "seat_not_blocked"
    status_code = 409
    default_detail = "Only a blocked seat can be unblocked."
