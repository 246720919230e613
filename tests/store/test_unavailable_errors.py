"""Which failures count as "the database is unreachable" (a 503 / a retryable room ERROR) and which do not."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from synctv.store.errors import database_unavailable


class _Cannot(Exception):
    sqlstate = "57P03"  # cannot connect now: the server is starting up


class _Syntax(Exception):
    sqlstate = "42601"


def _wrapped(orig: Exception) -> sa_exc.DBAPIError:
    try:
        raise orig
    except Exception as e:
        try:
            raise sa_exc.DBAPIError("SELECT 1", {}, e) from e
        except sa_exc.DBAPIError as wrapped:
            return wrapped
    raise AssertionError


def test_connection_failures_are_unavailable() -> None:
    assert database_unavailable(sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError()))
    assert database_unavailable(_wrapped(_Cannot("the database system is starting up")))
    assert database_unavailable(_wrapped(ConnectionResetError()))


def test_other_failures_are_not() -> None:
    assert not database_unavailable(_wrapped(_Syntax("syntax error")))
    assert not database_unavailable(sa_exc.IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not database_unavailable(ValueError("bad input"))
    with pytest.raises(FileNotFoundError) as info:
        Path("/nonexistent/synctv").read_text()
    assert not database_unavailable(info.value)  # an OSError from outside the driver
    assert not database_unavailable(ConnectionRefusedError())  # a media origin refusing, not the database
