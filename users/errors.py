from config.exceptions import DomainError


class EmailTaken(DomainError):
    code = "email_taken"
    status_code = 409
    default_detail = "An account with this email already exists."


class LoginLocked(DomainError):
    """Too many failed logins for one email (users/lockout.py); Retry-After says when it unlocks."""

    code = "throttled"
    status_code = 429
    default_detail = "Too many failed logins for this account; try again later."

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(f"{self.default_detail} Expected available in {self.retry_after} seconds.")


class InvalidCredentials(DomainError):
    code = "authentication_failed"
    status_code = 401
    default_detail = "Email or password is wrong."


class AccountGone(DomainError):
    """A valid token for an account that no longer exists (tokens are checked without a query)."""

    code = "authentication_failed"
    status_code = 401
    default_detail = "This account no longer exists."


class InvalidOtpCode(DomainError):
    """A one-time code (authenticator app) that the device does not accept: wrong, reused or too old."""

    code = "invalid_code"
    status_code = 400
    default_detail = "That code is not right. Enter the current 6-digit code from your authenticator app."


class AlreadyEnrolled(DomainError):
    code = "already_enrolled"
    status_code = 409
    default_detail = "This account already has an authenticator app."
