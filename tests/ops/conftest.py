import io
import logging
from collections.abc import Iterator

import pytest

from config.logging import JsonFormatter, RequestIdFilter


class JsonLines:
    """A handler with the production formatter and filter, capturing into a buffer."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter())
        self.handler.addFilter(RequestIdFilter())

    def lines(self) -> list[str]:
        return [line for line in self.stream.getvalue().splitlines() if line]


@pytest.fixture
def json_log() -> Iterator[JsonLines]:
    """Captures every record that reaches the root logger, as the production JSON handler writes it."""
    capture = JsonLines()
    root = logging.getLogger()
    access = logging.getLogger("access")
    old_level, old_access_level = root.level, access.level
    root.addHandler(capture.handler)
    root.setLevel(logging.INFO)
    access.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        root.removeHandler(capture.handler)
        root.setLevel(old_level)
        access.setLevel(old_access_level)
