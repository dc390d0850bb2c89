from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError
from rest_framework_simplejwt.tokens import AccessToken

from users.errors import EmailTaken, InvalidCredentials
from users.lockout import login_failure_record, login_failures_reset, login_lockout_check
from users.models import User


def user_register(*, name: str, email: str, password: str) -> User:
    email = User.objects.normalize_email(email).lower()
    candidate = User(email=email, name=name)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from exc
    if User.objects.filter(email__iexact=email).exists():
        raise EmailTaken()
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password, name=name)
    except IntegrityError as exc:  # a concurrent registration with the same email won the race
        raise EmailTaken() from exc


def user_issue_access_token(*, email: str, password: str) -> str:
    login_lockout_check(email=email)  # a locked email is refused before the password is even checked
    user = authenticate(username=email.lower(), password=password)
    if user is None or not user.is_active:
        login_failure_record(email=email)
        raise InvalidCredentials()
    login_failures_reset(email=email)
    return str(AccessToken.for_user(user))
