"""One line for a dependency that failed: which component, at which address, and why.

Start-up (`synctv serve`) and the management commands print this instead of a traceback: "database
(postgresql at db:5432/synctv): password authentication failed for user "synctv"", "HTTP listener
(0.0.0.0:8080): address already in use". Discovery and the mesh port raise errors that already name their
configuration key and address; those are kept, on one line.
"""

from __future__ import annotations

import errno
import os
import socket
import traceback
from collections.abc import Iterator

from synctv.config import Config

_DATABASE_MODULES = ("/synctv/store/", "/sqlalchemy/", "/asyncpg/", "/aiosqlite/", "/asyncmy/", "/alembic/")
_BIND_ERRNOS = (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL)
MAX_LENGTH = 400


def one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LENGTH else flat[:MAX_LENGTH - 3] + "..."


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)  # SQLAlchemy's wrapper around the driver's error
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)


def _in_database_code(exc: BaseException) -> bool:
    for e in _chain(exc):
        for frame in traceback.extract_tb(e.__traceback__):
            if any(m in frame.filename.replace(os.sep, "/") for m in _DATABASE_MODULES):
                return True
        if type(e).__module__.split(".")[0] in ("sqlalchemy", "asyncpg", "aiosqlite", "asyncmy", "sqlite3"):
            return True
    return False


def database_address(cfg: Config) -> str:
    """The database as an operator names it, without its password."""
    from sqlalchemy.engine import make_url

    from synctv.store.database import database_url, sqlite_path

    path = sqlite_path(cfg)
    if path is not None:
        return f"sqlite at {path}"
    try:
        url = make_url(database_url(cfg))
    except Exception:
        return cfg.database.type
    backend = url.get_backend_name()
    if backend == "sqlite":
        return f"sqlite at {url.database or ':memory:'}"
    default_port = {"postgresql": 5432, "mysql": 3306}.get(backend, 0)
    return f"{backend} at {url.host or '127.0.0.1'}:{url.port or default_port}/{url.database or ''}"


def _reason(exc: BaseException) -> str:
    errors = list(_chain(exc))
    for e in errors:
        if isinstance(e, ConnectionRefusedError) or "Connect call failed" in str(e):
            return "connection refused"
        if isinstance(e, socket.gaierror):
            return "cannot resolve the host name"
        if isinstance(e, TimeoutError):
            return "timed out"
    inner = errors[-1]
    text = one_line(str(inner)) or type(inner).__name__
    # SQLAlchemy appends a background link and the statement; the driver's own message comes first.
    return text.split(" (Background on this error")[0].split(" [SQL: ")[0]


def mesh_port_problem(cfg: Config) -> str | None:
    """Check that the mesh port can be bound before starting (gRPC would log its own multi-line error)."""
    grpc_cfg = cfg.cluster.grpc
    if not cfg.cluster.enabled or not grpc_cfg.port:
        return None
    host = grpc_cfg.listen.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, grpc_cfg.port))
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else one_line(str(exc))
        return f"cluster.grpc.port: cannot listen on {grpc_cfg.listen}:{grpc_cfg.port}: {reason}"
    return None


def describe(cfg: Config, exc: BaseException) -> str:
    if _in_database_code(exc):
        return f"database ({database_address(cfg)}): {_reason(exc)}"
    message = one_line(str(exc))
    if isinstance(exc, RuntimeError) and message.startswith("Failed to bind to address"):  # grpc's own words
        grpc_cfg = cfg.cluster.grpc
        return f"cluster.grpc.port: cannot listen on {grpc_cfg.listen}:{grpc_cfg.port}"
    if isinstance(exc, OSError) and exc.errno in _BIND_ERRNOS and not message.startswith("cluster."):
        http = cfg.server.http
        return f"HTTP listener ({http.listen}:{http.port}): {os.strerror(exc.errno)}"
    return message or type(exc).__name__
