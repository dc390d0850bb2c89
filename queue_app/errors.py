from config.exceptions import DomainError


class QueueTokenRequired(DomainError):
    code = "queue_token_required"
    status_code = 401
    default_detail = "An X-Queue-Token header is required."


class QueueTokenNotActive(DomainError):
    code = "queue_token_not_active"
    status_code = 403
    default_detail = "The queue token is not active for this user and concert."


class QueueTokenNotFound(DomainError):
    code = "queue_token_not_found"
    status_code = 404
    default_detail = "Queue token not found."


class QueueThrottled(DomainError):
    """A per-user queue rate limit. `retry_after` (whole seconds) becomes the Retry-After header."""

    code = "throttled"
    status_code = 429
    default_detail = "Request was throttled."

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"Request was throttled. Expected available in {self.retry_after} seconds.")


class QueueSoldOut(DomainError):
    code = "sold_out"
    status_code = 409
    default_detail = "The concert is sold out."


class SaleAlreadyDrawn(DomainError):
    code = "sale_already_drawn"
    status_code = 409
    default_detail = "The sale's pre-queue has already been drawn; its opening can no longer change."
