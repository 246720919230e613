"""A database in upstream SyncTV's (Go) schema, built from its documentation (reference §1.19, §1.1-§1.9), with a
small site in it: users with bcrypt hashes as Go writes them ($2a$), a password-protected room with settings and
members, a folder with a movie in it, a vendor movie and an orphan row the import must skip, and site settings.

The DDL follows what GORM AutoMigrate produces for each dialect (column names snake_case, JSON kept as text).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import bcrypt

# (column, sqlite type, postgres type)
_C = tuple[str, str, str]
TIME: tuple[str, str] = ("datetime", "timestamptz")
SCHEMA: dict[str, tuple[list[_C], str]] = {
    "settings": ([("name", "text", "text"), ("value", "text", "text"), ("type", "text", "text"),
                  ("group", "text", "text"), ("updated_at", *TIME)], "name"),
    "users": ([("id", "char(32)", "char(32)"), ("created_at", *TIME), ("updated_at", *TIME),
               ("username", "varchar(32) NOT NULL", "varchar(32) NOT NULL"), ("email", "varchar(64)", "varchar(64)"),
               ("hashed_password", "blob NOT NULL", "bytea NOT NULL"),
               ("role", "integer DEFAULT 2", "smallint DEFAULT 2"),
               ("registered_by_provider", "numeric", "boolean"), ("registered_by_email", "numeric", "boolean")], "id"),
    "user_providers": ([("provider", "text", "text"), ("provider_user_id", "text", "text"),
                        ("created_at", *TIME), ("updated_at", *TIME), ("user_id", "char(32)", "char(32)")],
                       "provider, provider_user_id"),
    "rooms": ([("id", "char(32)", "char(32)"), ("created_at", *TIME), ("updated_at", *TIME),
               ("name", "varchar(32) NOT NULL", "varchar(32) NOT NULL"), ("creator_id", "char(32)", "char(32)"),
               ("hashed_password", "blob", "bytea"), ("status", "integer DEFAULT 2", "smallint DEFAULT 2"),
               ("current", "text", "text")], "id"),
    "room_settings": ([("id", "char(32)", "char(32)"), ("hidden", "numeric", "boolean"),
                       ("disable_join_new_user", "numeric", "boolean"), ("join_need_review", "numeric", "boolean"),
                       ("user_default_permissions", "integer", "bigint"), ("disable_guest", "numeric", "boolean"),
                       ("guest_permissions", "integer", "bigint"), ("can_get_movie_list", "numeric", "boolean"),
                       ("can_add_movie", "numeric", "boolean"), ("can_delete_movie", "numeric", "boolean"),
                       ("can_edit_movie", "numeric", "boolean"), ("can_set_current_movie", "numeric", "boolean"),
                       ("can_set_current_status", "numeric", "boolean"),
                       ("can_send_chat_message", "numeric", "boolean"), ("updated_at", *TIME)], "id"),
    "room_members": ([("created_at", *TIME), ("updated_at", *TIME), ("user_id", "char(32)", "char(32)"),
                      ("room_id", "char(32)", "char(32)"), ("status", "integer DEFAULT 2", "smallint DEFAULT 2"),
                      ("role", "integer DEFAULT 1", "smallint DEFAULT 1"), ("permissions", "integer", "bigint"),
                      ("admin_permissions", "integer", "bigint")], "user_id, room_id"),
    "movies": ([("id", "char(32)", "char(32)"), ("created_at", *TIME), ("updated_at", *TIME),
                ("position", "integer NOT NULL", "bigint NOT NULL"),
                ("room_id", "char(32) NOT NULL", "char(32) NOT NULL"),
                ("creator_id", "char(32) NOT NULL", "char(32) NOT NULL"),
                ("base_url", "varchar(8192)", "varchar(8192)"),
                ("base_name", "varchar(256) NOT NULL", "varchar(256) NOT NULL"), ("base_live", "numeric", "boolean"),
                ("base_proxy", "numeric", "boolean"), ("base_rtmp_source", "numeric", "boolean"),
                ("base_type", "text", "text"), ("base_headers", "text", "text"), ("base_subtitles", "text", "text"),
                ("base_more_sources", "text", "text"), ("base_danmu", "text", "text"),
                ("base_stream_danmu", "text", "text"), ("base_is_folder", "numeric", "boolean"),
                ("base_parent_id", "char(32)", "char(32)"), ("base_vendor_info_vendor", "varchar(32)", "varchar(32)"),
                ("base_vendor_info_backend", "varchar(64)", "varchar(64)"),
                ("base_vendor_info_bilibili_bvid", "text", "text"),
                ("base_vendor_info_bilibili_cid", "integer", "bigint"),
                ("base_vendor_info_bilibili_epid", "integer", "bigint"),
                ("base_vendor_info_bilibili_quality", "integer", "bigint"),
                ("base_vendor_info_bilibili_shared", "numeric", "boolean"),
                ("base_vendor_info_alist_path", "text", "text"), ("base_vendor_info_alist_password", "text", "text"),
                ("base_vendor_info_emby_path", "text", "text"),
                ("base_vendor_info_emby_transcode", "numeric", "boolean")],
               "id"),
    "bilibili_vendors": ([("user_id", "char(32)", "char(32)"), ("backend", "text", "text"),
                          ("cookies", "text", "text")], "user_id"),
}


_MYSQL_TYPES = {"timestamptz": "datetime(3)", "bytea": "longblob", "boolean": "tinyint(1)", "text": "longtext"}


def _column_type(column: _C, dialect: str, in_key: bool) -> str:
    if dialect == "sqlite":
        return column[1]
    if dialect == "postgres":
        return column[2]
    # MySQL as GORM creates it: strings without a size are longtext, which cannot be a key.
    base, _, rest = column[2].partition(" ")
    typ = "varchar(191)" if in_key and base == "text" else _MYSQL_TYPES.get(base, base)
    return f"{typ} {rest}".strip()


def ddl(dialect: str, extra_columns: dict[str, str] | None = None) -> list[str]:
    q = "`" if dialect == "mysql" else '"'
    out = []
    for table, (columns, pk) in SCHEMA.items():
        keys = {k.strip() for k in pk.split(",")}
        defs = [f"{q}{c[0]}{q} {_column_type(c, dialect, c[0] in keys)}" for c in columns]
        if extra_columns and table in extra_columns:
            defs.append(f"{q}{extra_columns[table]}{q} text")
        key = ", ".join(f"{q}{k}{q}" for k in sorted(keys, key=pk.index))
        out.append(f"CREATE TABLE {q}{table}{q} ({', '.join(defs)}, PRIMARY KEY ({key}))")
    out.append(f"CREATE UNIQUE INDEX idx_users_username ON {q}users{q} ({q}username{q})")
    out.append(f"CREATE UNIQUE INDEX idx_rooms_name ON {q}rooms{q} ({q}name{q})")
    return out


def go_bcrypt(password: str) -> bytes:
    """A hash in the form Go's golang.org/x/crypto/bcrypt writes ($2a$, cost 10)."""
    return b"$2a$" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(10))[4:]


@dataclass(frozen=True)
class Site:
    alice = "a" * 31 + "1"
    bob = "b" * 31 + "2"
    guest = "0" * 31 + "1"
    room = "c" * 31 + "3"
    folder = "d" * 31 + "4"
    episode = "e" * 31 + "5"
    clip = "f" * 31 + "6"
    vendor_movie = "9" * 31 + "7"
    orphan_movie = "8" * 31 + "8"
    alice_password = "alice-upstream-pw"
    bob_password = "bob-upstream-pw"
    room_password = "room-secret"


SITE = Site()


def rows(time: Any, true: Any, false: Any) -> dict[str, list[dict[str, Any]]]:
    """The site's rows; `time`, `true` and `false` are how the dialect spells a timestamp and the booleans."""
    s = SITE
    base = {"base_live": false, "base_proxy": false, "base_rtmp_source": false, "base_type": "",
            "base_headers": "{}", "base_subtitles": "null", "base_more_sources": "null", "base_danmu": "",
            "base_stream_danmu": "", "base_vendor_info_vendor": "", "base_vendor_info_backend": ""}
    settings = [("enable_password_signup", "true", "bool", "user"), ("user_max_room_count", "10", "int64", "user"),
                ("room_ttl", "0", "int64", "room"), ("oauth2_rainbow_api", "https://u.cccyun.cc", "string",
                                                      "oauth2_rainbow"),
                ("database_version", "0.0.13", "string", "database"), ("p2p_zone", "sg", "string", "server")]
    return {
        "settings": [{"name": n, "value": v, "type": t, "group": g, "updated_at": time} for n, v, t, g in settings],
        "users": [
            {"id": s.alice, "created_at": time, "updated_at": time, "username": "alice", "email": "alice@example.com",
             "hashed_password": go_bcrypt(s.alice_password), "role": 5, "registered_by_provider": false,
             "registered_by_email": false},
            {"id": s.bob, "created_at": time, "updated_at": time, "username": "bob", "email": None,
             "hashed_password": go_bcrypt(s.bob_password), "role": 3, "registered_by_provider": true,
             "registered_by_email": false},
            {"id": s.guest, "created_at": time, "updated_at": time, "username": "guest", "email": None,
             "hashed_password": go_bcrypt("random-guest"), "role": 3, "registered_by_provider": false,
             "registered_by_email": false},
        ],
        "user_providers": [{"provider": "github", "provider_user_id": "4242", "created_at": time, "updated_at": time,
                            "user_id": s.bob}],
        "rooms": [{"id": s.room, "created_at": time, "updated_at": time, "name": "movie night", "creator_id": s.alice,
                   "hashed_password": go_bcrypt(s.room_password), "status": 3,
                   "current": json.dumps({"movie": {"id": s.clip},
                                          "status": {"currentTime": 12.5, "playbackRate": 1}})}],
        "room_settings": [{"id": s.room, "hidden": false, "disable_join_new_user": false, "join_need_review": false,
                           "user_default_permissions": 193 | 2, "disable_guest": true, "guest_permissions": 1,
                           "can_get_movie_list": true, "can_add_movie": true, "can_delete_movie": true,
                           "can_edit_movie": false, "can_set_current_movie": true, "can_set_current_status": true,
                           "can_send_chat_message": true, "updated_at": time}],
        "room_members": [
            {"created_at": time, "updated_at": time, "user_id": s.alice, "room_id": s.room, "status": 3, "role": 3,
             "permissions": 0xFFFFFFFF, "admin_permissions": 0xFFFFFFFF},
            {"created_at": time, "updated_at": time, "user_id": s.bob, "room_id": s.room, "status": 3, "role": 2,
             "permissions": 0xFFFFFFFF, "admin_permissions": 31},
            {"created_at": time, "updated_at": time, "user_id": s.guest, "room_id": s.room, "status": 3, "role": 1,
             "permissions": 1, "admin_permissions": 0},
        ],
        "movies": [
            {**base, "id": s.episode, "created_at": time, "updated_at": time, "position": 3, "room_id": s.room,
             "creator_id": s.bob, "base_url": "https://media.example.com/ep1.m3u8", "base_name": "Episode 1",
             "base_type": "m3u8", "base_is_folder": false, "base_parent_id": s.folder,
             "base_subtitles": '{"English":{"url":"https://media.example.com/ep1.vtt","type":"vtt"}}'},
            {**base, "id": s.folder, "created_at": time, "updated_at": time, "position": 1, "room_id": s.room,
             "creator_id": s.alice, "base_url": "", "base_name": "Series", "base_is_folder": true,
             "base_parent_id": None},
            {**base, "id": s.clip, "created_at": time, "updated_at": time, "position": 2, "room_id": s.room,
             "creator_id": s.alice, "base_url": "https://media.example.com/clip.mp4", "base_name": "Clip",
             "base_is_folder": false, "base_parent_id": None, "base_headers": '{"Referer":"https://example.com/"}'},
            {**base, "id": s.vendor_movie, "created_at": time, "updated_at": time, "position": 4, "room_id": s.room,
             "creator_id": s.alice, "base_url": "", "base_name": "From Bilibili", "base_is_folder": false,
             "base_parent_id": None, "base_vendor_info_vendor": "bilibili"},
            {**base, "id": s.orphan_movie, "created_at": time, "updated_at": time, "position": 5,
             "room_id": "7" * 32, "creator_id": s.alice, "base_url": "https://media.example.com/x.mp4",
             "base_name": "Orphan", "base_is_folder": false, "base_parent_id": None},
        ],
        "bilibili_vendors": [{"user_id": s.alice, "backend": "", "cookies": "{}"}],
    }


def build_sqlite(path: str, extra_columns: dict[str, str] | None = None) -> None:
    db = sqlite3.connect(path)
    for stmt in ddl("sqlite", extra_columns):
        db.execute(stmt)
    # GORM's SQLite driver stores times as text with the zone offset and booleans as 0/1.
    for table, items in rows("2024-03-01 18:30:00.123456789+08:00", 1, 0).items():
        for item in items:
            cols = ", ".join(f'"{c}"' for c in item)
            db.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" * len(item))})', list(item.values()))
    db.commit()
    db.close()


async def build_postgres(dsn: str) -> None:
    import datetime

    import asyncpg

    conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for stmt in ddl("postgres"):
            await conn.execute(stmt)
        when = datetime.datetime(2024, 3, 1, 18, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
        for table, items in rows(when, True, False).items():
            for item in items:
                cols = ", ".join(f'"{c}"' for c in item)
                marks = ", ".join(f"${i + 1}" for i in range(len(item)))
                await conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', *item.values())
    finally:
        await conn.close()


async def build_mysql(host: str, port: int, database: str) -> None:
    import datetime

    import asyncmy

    conn = await asyncmy.connect(host=host, port=port, user="root", db=database)
    try:
        async with conn.cursor() as cur:
            for stmt in ddl("mysql"):
                await cur.execute(stmt)
            # GORM's MySQL driver stores times as DATETIME(3) without a zone (UTC here) and booleans as 0/1.
            when = datetime.datetime(2024, 3, 1, 10, 30)
            for table, items in rows(when, 1, 0).items():
                for item in items:
                    cols = ", ".join(f"`{c}`" for c in item)
                    marks = ", ".join(["%s"] * len(item))
                    await cur.execute(f"INSERT INTO `{table}` ({cols}) VALUES ({marks})", list(item.values()))
        await conn.commit()
    finally:
        conn.close()
