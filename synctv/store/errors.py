"""Telling a database that cannot be reached from a statement that failed on its own merits."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached (refused, reset, timed out, connection lost mid-statement): a
    transient condition the caller answers with 'try again', never a 500."""
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, ConnectionError,
                        OSError, TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and isinstance(cause, (ConnectionError, OSError))


UNAVAILABLE_MESSAGE = "database unavailable, try again"
