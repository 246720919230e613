"""Telling a database that cannot be reached from a statement that failed on its own merits."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

_DRIVERS = ("asyncpg", "aiosqlite", "asyncmy", "aiomysql", "pymysql", "sqlalchemy")
UNAVAILABLE_MESSAGE = "database unavailable, try again"


def _raised_by_driver(exc: BaseException) -> bool:
    """A built-in error (ConnectionRefusedError from a pool's connect) raised inside the database driver."""
    tb = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(_DRIVERS):
            return True
        tb = tb.tb_next
    return False


def database_unavailable(exc: BaseException) -> bool:
    """A database error that means the database could not be reached (refused, reset, timed out, shutting down
    or starting up, connection lost mid-statement): transient, answered with 'try again', never a 500."""
    if not type(exc).__module__.startswith(_DRIVERS) and not _raised_by_driver(exc):
        return False  # an OSError from elsewhere (a file, a media origin) is not the database's
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ConnectionError, TimeoutError)):
            return True
        # SQLSTATE class 08 (connection exception) and 57P (shutting down, starting up: "cannot connect now").
        state = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(state, str) and (state.startswith("08") or state.startswith("57P")):
            return True
        current = current.__cause__ or current.__context__
    return False
