"""Settings shared by every environment. Everything that varies is read from the environment.

Two run modes:
- embedded (no DATABASE_URL, no REDIS_URL): SQLite, the database-backed queue, local-memory cache,
  Celery on kombu's filesystem transport. Nothing to install.
- full (DATABASE_URL + REDIS_URL): PostgreSQL, the Redis queue and cache, Celery on Redis. With
  REDIS_CLUSTER=true, REDIS_URL is a Redis Cluster and Celery's broker is CELERY_BROKER_URL.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.logging import build_logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RUN_DIR = BASE_DIR / ".run"  # local state of the embedded mode (SQLite file, Celery folders); git-ignored

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

# Secrets are read verbatim: django-environ would treat a value starting with "$" as a reference to
# another variable, and a random key may well start with one.
SECRET_KEY = os.environ.get("SECRET_KEY") or "insecure-dev-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
PORT = env.int("PORT", default=8000)

INSTALLED_APPS = [
    # django.contrib.admin, with the back office's door as its site (users/admin_site.py)
    "users.admin_config.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "users.admin_config.AuthenticatorAppsConfig",  # django_otp.plugins.otp_totp
    "users.admin_config.RecoveryCodesConfig",  # django_otp.plugins.otp_static
    "users",
    "concerts",
    "queue_app",
    "reservations",
    "points",
    "payments",
    "idempotency",
    "booking",
    "backoffice",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",  # outermost: request id, access log, latency metric
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, Swagger UI) from the app server itself, under gunicorn as under runserver.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the admin's second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "users.User"
APPEND_SLASH = False  # the API has no trailing slashes; admin URLs are linked with theirs

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
RUN_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{RUN_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue up on the busy timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # A health check costs a round trip (SELECT 1) on every request, as much as the work itself on the
    # hot paths. Without it a connection broken by a database restart fails one request with a clean
    # 503 and is then replaced (Django closes connections that errored at the end of the request).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=False)
    DATABASES["default"].setdefault("OPTIONS", {})
    # Fail fast instead of queueing forever behind a stuck lock; the statement is retried or answered 503.
    DATABASES["default"]["OPTIONS"].setdefault(
        "options", f"-c lock_timeout={env.int('DB_LOCK_TIMEOUT_MS', default=3000)}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis / cache --------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# REDIS_CLUSTER=true: REDIS_URL names any node of a Redis Cluster (config/redis.py, config/cache_cluster.py).
REDIS_CLUSTER = env.bool("REDIS_CLUSTER", default=False)
if REDIS_CLUSTER and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_CLUSTER=true needs REDIS_URL: the URL of any node of the cluster.")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache_cluster.RedisClusterCache"
            if REDIS_CLUSTER
            else "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cache",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------------
# Celery's Redis transport needs one server (its queues are lists and its fan-out is pub/sub): on a
# cluster the broker is a separate standalone Redis or RabbitMQ, named by CELERY_BROKER_URL.
if REDIS_CLUSTER and not os.environ.get("CELERY_BROKER_URL"):
    raise ImproperlyConfigured(
        "REDIS_CLUSTER=true: Celery cannot use a Redis Cluster as its broker. Set CELERY_BROKER_URL to a "
        "standalone Redis (redis://host:6379/0) or RabbitMQ (amqp://user:password@host:5672//)."
    )
if REDIS_CLUSTER and os.environ["CELERY_BROKER_URL"] == REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_CLUSTER=true: CELERY_BROKER_URL must name a standalone Redis or RabbitMQ, not the cluster "
        "in REDIS_URL."
    )
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _celery_dir = RUN_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker logs through LOGGING (config/celery_signals.py)

# --- Domain settings (the API's timing and limits) ---------------------------------------------
QUEUE_BACKEND = env.str("QUEUE_BACKEND", default="redis" if REDIS_URL else "database")
QUEUE_PROMOTION_BATCH_SIZE = env.int("QUEUE_PROMOTION_BATCH_SIZE", default=10)
QUEUE_PROMOTION_INTERVAL_SECONDS = env.int("QUEUE_PROMOTION_INTERVAL_SECONDS", default=10)
QUEUE_ACTIVE_TTL_SECONDS = env.int("QUEUE_ACTIVE_TTL_SECONDS", default=600)
QUEUE_ABANDON_SECONDS = env.int("QUEUE_ABANDON_SECONDS", default=300)
RESERVATION_HOLD_SECONDS = env.int("RESERVATION_HOLD_SECONDS", default=300)
RESERVATION_EXPIRY_SWEEP_SECONDS = env.int("RESERVATION_EXPIRY_SWEEP_SECONDS", default=30)
MAX_HOLDS_PER_USER = env.int("MAX_HOLDS_PER_USER", default=4)
# PostgreSQL: a hold's transaction commits without waiting for its WAL flush (synchronous_commit off for
# that transaction only). A database crash can then undo holds acknowledged in its last fraction of a
# second, seat and reservation together; payments stay synchronous and flush every hold before them.
RESERVATION_HOLD_ASYNC_COMMIT = env.bool("RESERVATION_HOLD_ASYNC_COMMIT", default=True)
# Seat maps served from a versioned Redis cache (needs REDIS_URL); invalidated after each committed change.
SEAT_MAP_CACHE_ENABLED = env.bool("SEAT_MAP_CACHE_ENABLED", default=True)
IDEMPOTENCY_TTL_SECONDS = env.int("IDEMPOTENCY_TTL_SECONDS", default=24 * 3600)
# The live sale page's per-minute snapshots older than this are deleted by the job that records them.
SALE_SNAPSHOT_RETENTION_DAYS = env.int("SALE_SNAPSHOT_RETENTION_DAYS", default=30)
# The clock guard (config/clock_guard.py): a process whose clock is more than this off PostgreSQL's (or
# Redis's) refuses time-dependent writes and reports not ready; 0 turns the guard off. It measures at most
# every CLOCK_CHECK_SECONDS (and on every readiness probe).
CLOCK_MAX_OFFSET_MS = env.int("CLOCK_MAX_OFFSET_MS", default=500)
CLOCK_CHECK_SECONDS = env.float("CLOCK_CHECK_SECONDS", default=5.0)

CELERY_BEAT_SCHEDULE = {
    "queue-promote": {
        "task": "queue_app.tasks.queue_promote_all",
        "schedule": float(QUEUE_PROMOTION_INTERVAL_SECONDS),
    },
    "reservations-expire": {
        "task": "reservations.tasks.reservations_expire_overdue",
        "schedule": float(RESERVATION_EXPIRY_SWEEP_SECONDS),
    },
    "sale-snapshots": {"task": "backoffice.tasks.sale_snapshots_record", "schedule": 60.0},
    "idempotency-purge": {
        "task": "idempotency.tasks.idempotency_purge_expired",
        "schedule": 3600.0,
    },
}

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("ACCESS_TOKEN_TTL_SECONDS", default=3600)),
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
    "TOKEN_USER_CLASS": "users.authentication.ApiUser",
}

# --- REST framework -------------------------------------------------------------------------------
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
# Login brute-force protection (users/lockout.py): this many failed logins for one email within
# LOGIN_LOCKOUT_SECONDS lock it for LOGIN_LOCKOUT_SECONDS (429 throttled); 0 turns it off.
LOGIN_MAX_FAILURES = env.int("LOGIN_MAX_FAILURES", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
# The back office's second factor (users/two_factor.py): when true, every staff login needs a code from an
# authenticator app, and a staff account without one must set it up before any other admin page.
# Production's default is true (settings/production.py); off here so a first `make run` is not blocked.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = "Concert ticketing back office"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # device secrets and recovery codes never shown in admin lists
# Wrong codes count in the login lockout above; django-otp's own per-device throttling would be a second,
# different limit on the same thing.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["users.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.ApiAutoSchema",  # documents Retry-After on 429/503
    "EXCEPTION_HANDLER": "config.exceptions.problem_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "register": env.str("RATE_LIMIT_REGISTER", default="20/hour"),
        "login": env.str("RATE_LIMIT_LOGIN", default="30/minute"),
        "queue_issue": env.str("RATE_LIMIT_QUEUE_ISSUE", default="30/minute"),
        "queue_status": env.str("RATE_LIMIT_QUEUE_STATUS", default="120/minute"),
        "booking": env.str("RATE_LIMIT_BOOKING", default="120/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Concert ticketing API",
    "DESCRIPTION": (
        "A fair waiting queue, seat holds, points and payments. Errors are RFC 9457 problem documents "
        "(application/problem+json) with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # A schema for client generators (config/api/schema_hooks.py); the enum hook must run first.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema_hooks.readable_component_names",
        "config.api.schema_hooks.open_operations_unmarked",
    ],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Orders, reservations and payments each have a `status`: one enum component per set of values.
    "ENUM_NAME_OVERRIDES": {
        "ReservationStatusEnum": "reservations.models.ReservationStatus",
        "PaymentStatusEnum": "payments.models.PaymentStatus",
    },
}

# --- I18N, static ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Where `collectstatic` writes (the image collects into /app/staticfiles at build time).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Outside production WhiteNoise serves straight from the apps' static folders (no collectstatic step for
# `make run`); production serves the collected, hashed files (settings/production.py).
WHITENOISE_USE_FINDERS = True

# --- Observability (docs/operations.md) ----------------------------------------------------------
# LOG_FORMAT: "plain" for a terminal, "json" (production's default) for one JSON object per line.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = build_logging_config(LOG_FORMAT, LOG_LEVEL)
# When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
