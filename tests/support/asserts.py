"""Assertions shared by API tests."""

from __future__ import annotations


def assert_error(status: int, body: object, code: int, message: str | None = None) -> None:
    assert status == code, (status, body)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("time"), int) and "data" not in body
    if message is not None:
        assert body["error"] == message, body
