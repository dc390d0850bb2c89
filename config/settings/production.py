"""Production: refuses to start without a real SECRET_KEY; passes `manage.py check --deploy`."""

import os

from django.core.exceptions import ImproperlyConfigured

from config.logging import build_logging_config

from .base import *  # noqa: F403
from .base import LOG_LEVEL, env

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("insecure"):
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")
SIMPLE_JWT["SIGNING_KEY"] = os.environ.get("JWT_SIGNING_KEY") or SECRET_KEY  # noqa: F405

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=True)  # every staff login gives a TOTP code

LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = build_logging_config(LOG_FORMAT, LOG_LEVEL)

# WhiteNoise (in MIDDLEWARE, settings/base.py) serves the collected static files with hashed names and
# far-future cache headers; `collectstatic` runs at image build time (Dockerfile).
WHITENOISE_USE_FINDERS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
