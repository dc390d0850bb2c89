from config.exceptions import DomainError


class EmailTaken(DomainError):
    code = "email_taken"
    status_code = 409
    default_detail = "An account with this email already exists."


class InvalidCredentials(DomainError):
    code = "authentication_failed"
    status_code = 401
    default_detail = "Email or password is wrong."
