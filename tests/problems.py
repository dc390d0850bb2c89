"""Assertions on the contract's error format (RFC 9457 problem documents with `code`)."""


def assert_problem(response, status: int, code: str):
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert {"type", "title", "detail"} <= body.keys()
    if code == "invalid":
        assert isinstance(body.get("fields"), dict) and body["fields"], body
    return body
