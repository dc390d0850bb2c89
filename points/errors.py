from config.exceptions import DomainError


class InsufficientPoints(DomainError):
    code = "insufficient_points"
    status_code = 409
    default_detail = "Not enough points."
