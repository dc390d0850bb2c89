"""The project's JSON parser reads every body as DRF's parser does: the same value, or the same error.

It decodes with orjson first and falls back to DRF's parser; these bodies sit on the edges where the two
libraries differ (integers beyond 64 bits, floats out of range, NaN, lone surrogates, other charsets)."""

import io

import pytest
from rest_framework import parsers as drf_parsers
from rest_framework.exceptions import ParseError

from config.api.parsers import JSONParser

BODIES = [
    b'{"concert_id": 1}',
    b' {"a" : [1, 2.5e3, -0, -0.0, true, null, "\\u00e9", "\\ud83d\\ude00"]} ',
    b'{"a": 1, "a": 2}',
    b"18446744073709551616",  # one past the largest 64-bit unsigned integer
    b'{"seat_number": 18446744073709551616}',
    b"-9223372036854775809",
    b"123456789012345678901234567890",
    b"18446744073709551615",
    b"1e400",
    b"-1e400",
    b"4.9e-324",
    b'"\\ud800"',  # a lone surrogate escape: the json module accepts it
    b"NaN",
    b'{"a": Infinity}',
    b"\xef\xbb\xbf{}",  # a UTF-8 byte-order mark
    b'"\xff"',
    b"",
    b"[1,]",
    b"{",
    b"[" * 3000 + b"]" * 3000,
]


def _outcome(parser, body: bytes, encoding: str):
    try:
        return "value", repr(parser.parse(io.BytesIO(body), "application/json", {"encoding": encoding}))
    except ParseError as exc:
        return "error", str(exc.detail)
    except RecursionError:
        return "error", "nested too deeply"


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "latin-1", "bz2_codec", "no-such-charset"])
@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_same_value_or_the_same_error_as_drf(body, encoding):
    ours = _outcome(JSONParser(), body, encoding)
    theirs = _outcome(drf_parsers.JSONParser(), body, encoding)
    if theirs == ("error", "nested too deeply"):  # DRF lets RecursionError out; ours makes it a 400
        assert ours == ("error", "JSON parse error - nested too deeply.")
    else:
        assert ours == theirs
