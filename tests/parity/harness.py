"""Runs one request against a plain view and against a DRF view built from the serializers that
document it, and compares what a client sees: status, content type, the JSON body and the headers of
the contract (Retry-After, WWW-Authenticate, Allow, Cache-Control)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from rest_framework.response import Response

HEADERS = ("Retry-After", "WWW-Authenticate", "Allow", "Cache-Control")
_factory = RequestFactory()

# Values for one integer field, as a client may send them ("ID" stands for a real id).
FIELD_VALUES: list[Any] = [
    "ID",
    "ID.0",
    "ID-str",
    True,
    False,
    None,
    1.5,
    2**63,
    2**31,
    -1,
    0,
    "abc",
    "",
    [],
    {},
]
# Whole bodies that are not an object of fields, as raw request bytes.
RAW_BODIES: list[bytes] = [b"[]", b'"string"', b"1", b"null", b"{", b"", b'{"a": NaN}', b"\xff\xfe"]


def value_for(kind: Any, real_id: int) -> Any:
    if kind == "ID":
        return real_id
    if kind == "ID.0":
        return float(real_id)  # 1.0 is an integer to DRF
    if kind == "ID-str":
        return str(real_id)  # "12" too
    return kind


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: Any
    headers: dict[str, str]


def answer_of(response: HttpResponse) -> Answer:
    if isinstance(response, Response):
        response.render()
    content = response.content
    return Answer(
        status=response.status_code,
        content_type=response["Content-Type"],
        body=json.loads(content) if content else None,
        headers={
            name: _header(response, name)
            for name in HEADERS
            if response.has_header(name) and (name != "Allow" or response.status_code == 405)
        },
    )


def request(
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    content_type: str = "application/json",
    **headers: str,
) -> Callable[[], HttpRequest]:
    """A maker of identical fresh requests (a body stream is read once)."""

    def make() -> HttpRequest:
        return _factory.generic(method, path, data=body or b"", content_type=content_type, **headers)

    return make


@contextmanager
def _undone(*, redis: bool) -> Iterator[None]:
    """What the request wrote is undone: the database rolls back; with `redis`, the cache and Redis are
    emptied too (else they are left as they are, e.g. to keep a queue token)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    if not redis:
        return
    cache.clear()
    if settings.REDIS_URL:
        from config.redis import get_redis

        get_redis().flushdb()


def both(
    plain: Callable[..., HttpResponse],
    reference: Callable[..., HttpResponse],
    make: Callable[[], HttpRequest],
    *,
    undo_redis: bool = True,
    **kwargs: Any,
) -> tuple[Answer, Answer]:
    """The plain view's and the reference view's answers to the same request, each from the same state."""
    answers = []
    for view in (plain, reference):
        with _undone(redis=undo_redis):
            answers.append(answer_of(view(make(), **kwargs)))
    return answers[0], answers[1]


def masked(answer: Answer, *keys: str) -> Answer:
    """The answer with values that differ by nature (a new token, a new id) replaced by their type."""
    if not isinstance(answer.body, dict):
        return answer
    body = {k: (type(v).__name__ if k in keys else v) for k, v in answer.body.items()}
    return Answer(answer.status, answer.content_type, body, answer.headers)


def rendered(data: Any) -> Any:
    """A serializer's data as a client reads it (through JSON)."""
    return json.loads(json.dumps(data, default=str))


def _header(response: HttpResponse, name: str) -> str:
    # DRF puts Allow on every answer and lists OPTIONS (metadata); a plain view serves its one method
    # only and names it on 405, which is where the contract needs it.
    return response[name].replace(", OPTIONS", "") if name == "Allow" else response[name]
