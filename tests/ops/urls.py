"""The project's URLs plus two views that log and fail, for the observability tests."""

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def logging_view(request: HttpRequest) -> HttpResponse:
    logging.getLogger("tests.ops.view").warning("inside the view")
    return HttpResponse("ok")


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


urlpatterns = [
    path("ops-test/log", logging_view, name="ops-test-log"),
    path("ops-test/fail", failing_view, name="ops-test-fail"),
    *project_urlpatterns,
]
