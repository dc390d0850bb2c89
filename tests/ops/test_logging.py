import json
import logging
from datetime import UTC, datetime

import pytest
from django.test import Client

from config.logging import (
    JsonFormatter,
    RequestIdFilter,
    build_logging_config,
    reset_request_id,
    set_request_id,
)


def test_the_access_log_is_one_json_line_with_the_request_id(client, json_log):
    client.get("/healthz", HTTP_X_REQUEST_ID="req-access-1")
    entries = [json.loads(line) for line in json_log.lines()]  # every line parses
    access = [e for e in entries if e["logger"] == "access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-access-1"
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"], line["route"]) == (
        "GET",
        "/healthz",
        200,
        "healthz",
    )
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert datetime.fromisoformat(line["timestamp"]).tzinfo is not None


@pytest.mark.urls("tests.ops.urls")
def test_logs_written_during_a_request_carry_its_id(client, json_log):
    client.get("/ops-test/log", HTTP_X_REQUEST_ID="req-in-view")
    entries = [json.loads(line) for line in json_log.lines()]
    (view_line,) = [e for e in entries if e["logger"] == "tests.ops.view"]
    assert view_line["message"] == "inside the view"
    assert view_line["request_id"] == "req-in-view"
    assert {e["request_id"] for e in entries} == {"req-in-view"}


@pytest.mark.urls("tests.ops.urls")
def test_a_server_error_is_logged_with_its_traceback_and_request_id(json_log):
    client = Client(raise_request_exception=False)
    response = client.get("/ops-test/fail", HTTP_X_REQUEST_ID="req-500")
    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-500"
    entries = [json.loads(line) for line in json_log.lines()]
    (error,) = [e for e in entries if e["logger"] == "django.request"]
    assert error["level"] == "ERROR" and error["request_id"] == "req-500"
    assert "RuntimeError: boom" in error["exc_info"]
    (access,) = [e for e in entries if e["logger"] == "access"]
    assert access["status"] == 500 and access["route"] == "ops-test-fail"


def test_exceptions_are_logged_with_their_traceback_and_request_id(json_log):
    token = set_request_id("req-exc")
    try:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            logging.getLogger("tests.ops").exception("it broke", extra={"seat": 7, "when": datetime.now(UTC)})
    finally:
        reset_request_id(token)
    (entry,) = [json.loads(line) for line in json_log.lines()]
    assert entry["message"] == "it broke"
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "tests.ops"
    assert entry["request_id"] == "req-exc"
    assert "ZeroDivisionError" in entry["exc_info"] and "Traceback" in entry["exc_info"]
    assert entry["seat"] == 7 and isinstance(entry["when"], str)
    assert "\n" not in json_log.stream.getvalue().rstrip("\n")  # one line, the traceback escaped


def test_outside_a_request_the_request_id_is_null(json_log):
    logging.getLogger("tests.ops").warning("no request here")
    (entry,) = [json.loads(line) for line in json_log.lines()]
    assert entry["request_id"] is None


def test_plain_format_shows_the_request_id():
    config = build_logging_config("plain")
    formatter = logging.Formatter(config["formatters"]["plain"]["format"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = set_request_id("req-plain")
    try:
        RequestIdFilter().filter(record)
    finally:
        reset_request_id(token)
    assert "[req-plain] hello" in formatter.format(record)
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdFilter().filter(outside)
    assert "[-] hello" in formatter.format(outside)
    assert json.loads(JsonFormatter().format(outside))["request_id"] is None


def test_log_format_is_validated():
    assert build_logging_config("json")["handlers"]["console"]["formatter"] == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        build_logging_config("xml")


def test_an_answered_outage_is_not_logged_as_a_server_error_per_request(caplog):
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.utils.log import log_response

    request = RequestFactory().get("/api/v1/queue/status")
    with caplog.at_level("WARNING", logger="django.request"):
        log_response(
            "Service Unavailable: %s", request.path, response=HttpResponse(status=503), request=request
        )
        log_response(
            "Internal Server Error: %s", request.path, response=HttpResponse(status=500), request=request
        )
    assert [r.status_code for r in caplog.records if r.name == "django.request"] == [500]
