from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework_simplejwt.tokens import AccessToken

from config.db import atomic_with_retry
from config.exceptions import InvalidInput
from users.errors import EmailTaken, InvalidCredentials
from users.lockout import login_failure_record, login_failures_reset, login_lockout_check
from users.models import User


def user_register(*, name: str, email: str, password: str) -> User:
    email = User.objects.normalize_email(email).lower()
    candidate = User(email=email, name=name)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise InvalidInput({"password": list(exc.messages)}) from exc
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken()
    # Hash before any write: the hash takes a deliberate fraction of a second of CPU, and on SQLite a
    # write transaction holds the one database lock for as long as it is open.
    candidate.set_password(password)
    try:
        return _user_insert(candidate)
    except IntegrityError as exc:  # a concurrent registration with the same email won the race
        raise EmailTaken() from exc


@atomic_with_retry
def _user_insert(user: User) -> User:
    user.save(force_insert=True)
    return user


def user_issue_access_token(*, email: str, password: str) -> str:
    login_lockout_check(email=email)  # a locked email is refused before the password is even checked
    user = authenticate(username=email.lower(), password=password)
    if user is None or not user.is_active:
        login_failure_record(email=email)
        raise InvalidCredentials()
    login_failures_reset(email=email)
    return str(AccessToken.for_user(user))
