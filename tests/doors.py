"""The two login doors, driven the same way: the API's `POST /auth/token` and the back office's
/admin/login/. Both answer one of three outcomes, so the login lockout's tests run once per door."""

from __future__ import annotations

import time
from base64 import b32decode
from itertools import count

from django.test import Client
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

OK, REFUSED, LOCKED = "ok", "refused", "locked"
ADMIN_LOCKED_TEXT = "Too many failed logins"
_address = count(1)


def _new_address() -> str:
    """Each attempt from a new address: no per-address limit ever comes into play."""
    n = next(_address)
    return f"10.1.{n // 250}.{n % 250 + 1}"


def api_login(email: str, password: str) -> str:
    response = APIClient(REMOTE_ADDR=_new_address()).post(
        "/api/v1/auth/token", {"email": email, "password": password}, format="json"
    )
    outcome = {200: OK, 401: REFUSED, 429: LOCKED}.get(response.status_code)
    assert outcome is not None, (response.status_code, response.content)
    return outcome


def admin_login_response(email: str, password: str, code: str = "", client: Client | None = None):
    client = client or Client(REMOTE_ADDR=_new_address())
    return client.post("/admin/login/", {"username": email, "password": password, "otp_token": code})


def admin_login(email: str, password: str, code: str = "") -> str:
    response = admin_login_response(email, password, code)
    if response.status_code == 302:
        return OK
    assert response.status_code == 200, response.status_code
    return LOCKED if ADMIN_LOCKED_TEXT in response.content.decode() else REFUSED


DOORS = {"api": api_login, "admin": admin_login}


def totp_code(secret: str, *, step: int | None = None) -> str:
    """The code an authenticator app shows for a base32 secret (spaces allowed) at a 30 s step (now)."""
    key = b32decode("".join(secret.split()).upper())
    return f"{hotp(key, int(time.time()) // 30 if step is None else step, digits=6):06d}"


def fresh_code(device: TOTPDevice) -> str:
    """A code the device accepts now: a code is accepted once, so when this step's code has been used
    (enrolment just confirmed it) take the next step's, which the device accepts too (one step of
    tolerance for phones whose clock is a little ahead)."""
    device.refresh_from_db()
    key_b32 = device.config_url.split("secret=")[1].split("&")[0]
    return totp_code(key_b32, step=max(int(time.time()) // 30, device.last_t + 1))
