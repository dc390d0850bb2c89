from config.exceptions import DomainError


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = 422
    default_detail = "This Idempotency-Key was already used with a different request."


class RequestInProgress(DomainError):
    code = "request_in_progress"
    status_code = 409
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
