"""Structured logs: one JSON object per line, each carrying the id of the request (or task) it belongs to.

- `request_id_var` holds the current request id; `config.middleware.RequestIdMiddleware` sets it for each
  HTTP request and `config.celery_signals` carries it into Celery tasks.
- `RequestIdFilter` copies it onto every record as `record.request_id` (handlers attach the filter, so
  records from every logger get it, third-party ones included).
- `JsonFormatter` renders a record as one line: timestamp, level, logger, message, request_id, any
  `extra={...}` fields, and `exc_info` / `stack_info` when present.
- `build_logging_config()` is the `LOGGING` dict for settings (and gunicorn's `logconfig_dict`);
  `LOG_FORMAT` picks "json" or "plain".
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# What a client may send as X-Request-ID: short, printable, no spaces/quotes/newlines (log injection).
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """The value when it is an acceptable request id, else None."""
    if value and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


def get_request_id() -> str | None:
    return request_id_var.get()


def set_request_id(value: str | None) -> Token[str | None]:
    return request_id_var.set(value)


def reset_request_id(token: Token[str | None]) -> None:
    try:
        request_id_var.reset(token)
    except ValueError:  # token made in another context (should not happen); never break the caller
        request_id_var.set(None)


NO_REQUEST_ID = "-"  # outside a request or task; never a valid id (those start with a letter or digit)


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` ("-" outside a request or task). Never filters anything out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or NO_REQUEST_ID
        return True


# Attributes every LogRecord has; anything else on a record came from `extra=` and is emitted as a field.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class SkipServiceUnavailable(logging.Filter):
    """On django.request: a 503 is an answered outage (the exception handler already logged a warning
    naming the backing service), not a server error worth an ERROR line per request."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 503


def _record_request_id(record: logging.LogRecord) -> str | None:
    value = getattr(record, "request_id", None)
    if value is None or value == NO_REQUEST_ID:
        return request_id_var.get()
    return str(value)


def _json_default(value: Any) -> str:
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Keys: timestamp (UTC, ISO 8601), level, logger, message, request_id,
    then extra fields, then `exc_info` (the formatted traceback) and `stack_info` when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _record_request_id(record),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS and key not in entry:
                entry[key] = value
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
            entry["exc_info"] = record.exc_text
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=_json_default, ensure_ascii=False)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
LOG_FORMATS = ("json", "plain")


def build_logging_config(log_format: str = "plain", level: str = "INFO") -> dict[str, Any]:
    """The dictConfig for Django's LOGGING (and gunicorn's logconfig_dict): one stdout handler."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "config.logging.RequestIdFilter"},
            "skip_503": {"()": "config.logging.SkipServiceUnavailable"},
        },
        "formatters": {
            "json": {"()": "config.logging.JsonFormatter"},
            "plain": {"format": PLAIN_FORMAT},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Our access log replaces runserver's and gunicorn's; 4xx/5xx are logged by it already.
            "django.request": {"level": "ERROR", "filters": ["skip_503"]},
            "django.server": {"level": "WARNING"},
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
            "celery": {"level": "INFO"},
        },
    }
