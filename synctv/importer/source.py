"""Reading an upstream SyncTV (Go) database: open it read-only, check its schema, return its rows as dicts.

The schema is upstream's GORM AutoMigrate of its models (reference §1.19). Rows are read with plain SQL so each
driver hands back its own values (SQLite: text timestamps and 0/1 booleans; PostgreSQL/MySQL: native types);
`values` turns them into Python values.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


class UpstreamError(Exception):
    """The upstream database cannot be read or is not one; the message is one line for the operator."""


_VENDOR_COLUMNS = ("base_vendor_info_vendor", "base_vendor_info_backend", "base_vendor_info_bilibili_bvid",
                   "base_vendor_info_bilibili_cid", "base_vendor_info_bilibili_epid",
                   "base_vendor_info_bilibili_quality", "base_vendor_info_bilibili_shared",
                   "base_vendor_info_alist_path", "base_vendor_info_alist_password",
                   "base_vendor_info_emby_path", "base_vendor_info_emby_transcode")
ROOM_SETTING_COLUMNS = ("user_default_permissions", "guest_permissions", "disable_guest", "join_need_review",
                        "disable_join_new_user", "hidden", "can_get_movie_list", "can_add_movie", "can_delete_movie",
                        "can_edit_movie", "can_set_current_movie", "can_set_current_status", "can_send_chat_message")

# table: (required columns, optional columns). Tables marked optional may be absent (older upstream versions).
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "users": (("id", "username", "hashed_password", "role"),
              ("created_at", "updated_at", "email", "registered_by_provider", "registered_by_email")),
    "user_providers": (("provider", "provider_user_id", "user_id"), ("created_at", "updated_at")),
    "rooms": (("id", "name", "creator_id", "hashed_password", "status"), ("created_at", "updated_at", "current")),
    "room_settings": (("id",), ("updated_at", *ROOM_SETTING_COLUMNS)),
    "room_members": (("user_id", "room_id", "status", "role", "permissions", "admin_permissions"),
                     ("created_at", "updated_at")),
    "movies": (("id", "room_id", "creator_id", "position", "base_name", "base_url"),
               ("created_at", "updated_at", "base_type", "base_parent_id", "base_headers", "base_subtitles",
                "base_more_sources", "base_danmu", "base_stream_danmu", "base_live", "base_proxy",
                "base_rtmp_source", "base_is_folder", *_VENDOR_COLUMNS)),
    "settings": (("name", "value"), ("type", "group", "updated_at")),
}
OPTIONAL_TABLES = ("user_providers", "room_settings")
# Upstream tables whose contents this server has no place for; their row counts go into the report.
VENDOR_TABLES = ("bilibili_vendors", "alist_vendors", "emby_vendors", "vendor_backends")

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def source_url(spec: str) -> tuple[str, str]:
    """(SQLAlchemy URL, how to name the source in messages) for a SQLite file path or a database URL."""
    if "://" not in spec:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise UpstreamError(f"upstream database {path}: no such file")
        with path.open("rb") as f:
            if f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                raise UpstreamError(f"upstream database {path}: not a SQLite database file")
        # Opened read-only through a URI: the import never writes to the upstream file.
        return f"sqlite+aiosqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true", str(path)
    scheme, rest = spec.split("://", 1)
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return "postgresql+asyncpg://" + rest, _redact(spec)
    if scheme in ("mysql", "mysql+asyncmy"):
        if importlib.util.find_spec("asyncmy") is None:
            raise UpstreamError("reading MySQL needs the asyncmy driver: pip install 'synctv[mysql]'")
        return "mysql+asyncmy://" + rest, _redact(spec)
    if scheme == "sqlite":
        return source_url(rest[1:] if rest.startswith("/") else rest)
    raise UpstreamError(f"upstream database {_redact(spec)}: unknown scheme {scheme!r} "
                        f"(give a SQLite file path, postgres://... or mysql://...)")


def _columns(sync_conn: Any) -> dict[str, list[str]]:
    insp = inspect(sync_conn)
    return {t: [c["name"] for c in insp.get_columns(t)] for t in insp.get_table_names()}


def check_schema(columns: dict[str, list[str]], *, ignore_unknown: bool) -> None:
    missing_tables = [t for t in TABLES if t not in columns and t not in OPTIONAL_TABLES]
    if missing_tables:
        raise UpstreamError(f"not an upstream SyncTV database: table{'s' if len(missing_tables) > 1 else ''} "
                            f"{', '.join(missing_tables)} not found")
    for table, (required, optional) in TABLES.items():
        have = columns.get(table)
        if have is None:
            continue
        missing = [c for c in required if c not in have]
        if missing:
            raise UpstreamError(f"not an upstream SyncTV database: table {table} has no column "
                                f"{', '.join(missing)}")
        unknown = [c for c in have if c not in required and c not in optional and c != "deleted_at"]
        if unknown and not ignore_unknown:
            raise UpstreamError(f"table {table} has columns this importer does not know: {', '.join(unknown)} "
                                f"(a newer upstream version?); rerun with --ignore-unknown-columns to import "
                                f"without them")


class UpstreamSource:
    """An open upstream database."""

    def __init__(self, engine: AsyncEngine, name: str, columns: dict[str, list[str]]) -> None:
        self.engine = engine
        self.name = name
        self.columns = columns

    @classmethod
    async def open(cls, spec: str, *, ignore_unknown: bool = False) -> UpstreamSource:
        url, name = source_url(spec)
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                columns = await conn.run_sync(_columns)
        except UpstreamError:
            await engine.dispose()
            raise
        except Exception as exc:
            await engine.dispose()
            reason = " ".join(str(getattr(exc, "orig", None) or exc).split()) or type(exc).__name__
            raise UpstreamError(f"cannot read the upstream database {name}: {reason}") from None
        try:
            check_schema(columns, ignore_unknown=ignore_unknown)
        except UpstreamError:
            await engine.dispose()
            raise
        return cls(engine, name, columns)

    async def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a known table (known columns only); [] when an optional table is absent."""
        have = self.columns.get(table)
        if have is None:
            return []
        required, optional = TABLES[table]
        wanted = [c for c in (*required, *optional) if c in have]
        soft_deleted = "deleted_at" in have  # a GORM soft-delete column: such rows are gone for upstream too
        async with self.engine.connect() as conn:
            rows = await _select(conn, table, [*wanted, "deleted_at"] if soft_deleted else wanted)
        if soft_deleted:
            rows = [r for r in rows if r.pop("deleted_at") in (None, "")]
        return rows

    async def count(self, table: str) -> int:
        if table not in self.columns:
            return 0
        async with self.engine.connect() as conn:
            q = "`" if conn.dialect.name == "mysql" else '"'
            return int((await conn.execute(text(f"SELECT COUNT(*) FROM {q}{table}{q}"))).scalar_one())

    async def close(self) -> None:
        await self.engine.dispose()


async def _select(conn: AsyncConnection, table: str, columns: list[str]) -> list[dict[str, Any]]:
    quote_char = "`" if conn.dialect.name == "mysql" else '"'
    cols = ", ".join(f"{quote_char}{c}{quote_char}" for c in columns)
    result = await conn.execute(text(f"SELECT {cols} FROM {quote_char}{table}{quote_char}"))
    return [dict(zip(columns, row, strict=True)) for row in result]


# --- values as each driver returns them ---


def as_datetime(value: Any) -> datetime | None:
    """A naive UTC datetime from a driver datetime or GORM's SQLite text ("2006-01-02 15:04:05.999+07:00")."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value:
        text_value = value.strip()
        if " m=" in text_value:  # Go's monotonic clock suffix, when a time was stored with String()
            text_value = text_value.split(" m=", 1)[0]
        try:
            dt = datetime.fromisoformat(text_value.replace(" +0000 UTC", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "t")
    return bool(value)


def as_int(value: Any) -> int:
    if value is None or value == "":
        return 0
    return int(value)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def as_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def as_json(value: Any, default: Any) -> Any:
    """A JSON text column; empty, null or unparsable gives `default`."""
    raw = as_text(value)
    if not raw or raw == "null":
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default
