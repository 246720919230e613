"""`synctv import-upstream`: an upstream SyncTV database (built here from the documented schema) imported into a
new data dir; the imported users log in with their original passwords and the room, members and movies are
there through the API; a second run imports nothing; bad inputs are one-line errors."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.api_client import Api
from tests.support.mysql_server import MysqlServer, find_server
from tests.support.pg_server import PostgresServer
from tests.support.servers import start_server
from tests.support.upstream_db import SITE, build_mysql, build_postgres, build_sqlite
from tests.test_cli import fails, ok, run


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    assert run(d, "migrate").returncode == 0
    return d


def _counts(output: str) -> dict[str, tuple[int, int]]:
    out = {}
    for line in output.splitlines():
        line = line.strip()
        kind, _, rest = line.partition(": ")
        if kind in ("users", "providers", "rooms", "members", "movies", "settings") and "imported" in rest:
            parts = rest.split(", ")
            out[kind] = (int(parts[0].split()[0]), int(parts[1].split()[0]))
    return out


async def _check_site(data_dir: Path) -> None:
    runtime, base = await start_server(data_dir)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            # bcrypt hashes written by Go ($2a$) keep working: log in with the original passwords
            alice = await api.login("alice", SITE.alice_password)
            me = await api.me(alice)
            assert me["id"] == SITE.alice and me["role"] == 5 and me["username"] == "alice"
            bob = await api.login("bob", SITE.bob_password)
            status, _ = await api.call("POST", "/api/user/login", json={"username": "alice", "password": "wrong"})
            assert status == 403
            rooms = await api.ok("GET", "/api/user/rooms", token=alice)
            assert [r["roomName"] for r in rooms["list"]] == ["movie night"]
            assert rooms["list"][0]["needPassword"] is True
            # members and their permissions
            members = await api.ok("GET", "/api/room/members", token=alice, room=SITE.room)
            by_name = {m["username"]: m for m in members["list"]}
            assert set(by_name) == {"alice", "bob"}
            assert by_name["bob"]["role"] == 2 and by_name["bob"]["adminPermissions"] == 31
            settings = await api.ok("GET", "/api/room/settings", token=bob, room=SITE.room)
            assert settings["user_default_permissions"] == 195 and settings["disable_guest"] is True
            assert settings["guest_permissions"] == 1 and settings["can_edit_movie"] is False
            # the room password carried over: a new user needs it
            carol = await api.signup("carol", "carol-password")
            status, _ = await api.call("POST", "/api/room/login", token=carol,
                                       json={"roomId": SITE.room, "password": "nope"})
            assert status == 403
            await api.ok("POST", "/api/room/login", token=carol,
                         json={"roomId": SITE.room, "password": SITE.room_password})
            # movies and folders, in upstream's order; the vendor movie and the orphan are not there
            top = await api.ok("GET", "/api/room/movie/movies", token=alice, room=SITE.room)
            assert [(m["id"], m["base"]["name"]) for m in top["movies"]] == [(SITE.folder, "Series"),
                                                                             (SITE.clip, "Clip")]
            assert top["movies"][1]["base"]["headers"] == {"Referer": "https://example.com/"}
            inner = await api.ok("GET", "/api/room/movie/movies", token=alice, room=SITE.room,
                                 params={"id": SITE.folder})
            [episode] = inner["movies"]
            assert episode["id"] == SITE.episode and episode["creatorId"] == SITE.bob
            assert episode["base"]["subtitles"]["English"]["type"] == "vtt"
            # the room's current movie and position
            current = await api.ok("GET", "/api/room/movie/current", token=alice, room=SITE.room)
            assert current["movie"]["id"] == SITE.clip and current["status"]["currentTime"] >= 12.5
            # site settings: valid values imported, invalid and foreign ones left alone
            admin = await api.ok("GET", "/api/admin/settings/user", token=alice)
            assert admin["user"]["user_max_room_count"] == 10
            server = await api.ok("GET", "/api/admin/settings/room", token=alice)
            assert server["room"]["room_ttl"] == 48
    finally:
        await runtime.stop()


def _assert_first_import(out: str) -> None:
    counts = _counts(out)
    assert counts["users"] == (2, 0) and counts["providers"] == (1, 0) and counts["rooms"] == (1, 0), out
    assert counts["members"] == (2, 0) and counts["movies"] == (3, 0), out
    assert counts["settings"] == (2, 1), out  # user_max_room_count, p2p_zone; enable_password_signup as here
    assert "bilibili movies are not available on this server" in out
    assert "its room was not imported" in out and "guest_permissions" in out
    assert "skipped settings room_ttl" in out and "skipped settings oauth2_rainbow_api" in out
    assert "bilibili_vendors: 1 row(s) not imported" in out


def _assert_nothing_new(out: str) -> None:
    counts = _counts(out)
    assert all(imported == 0 for imported, _ in counts.values()), out
    assert counts["users"][1] == 2 and counts["movies"][1] == 3 and counts["members"][1] == 2, out
    assert "nothing new to import" in out


async def test_import_sqlite_upstream(tmp_path: Path, data_dir: Path) -> None:
    upstream = tmp_path / "synctv.db"
    build_sqlite(str(upstream))
    before = upstream.read_bytes()
    dry = ok(data_dir, "import-upstream", str(upstream), "--dry-run")
    assert "would import" in dry and _counts(dry)["users"] == (2, 0)
    out = ok(data_dir, "import-upstream", str(upstream))
    _assert_first_import(out)
    assert upstream.read_bytes() == before  # read-only on the upstream side
    await _check_site(data_dir)
    _assert_nothing_new(ok(data_dir, "import-upstream", str(upstream)))


async def test_import_postgres_upstream(pg_server: PostgresServer, data_dir: Path) -> None:
    name = "upstream_" + uuid.uuid4().hex[:12]
    dsn = pg_server.create_database(name)
    await build_postgres(dsn)
    url = f"postgres://postgres@127.0.0.1:{pg_server.port}/{name}"
    _assert_first_import(ok(data_dir, "import-upstream", url))
    await _check_site(data_dir)
    _assert_nothing_new(ok(data_dir, "import-upstream", url))


@pytest.fixture(scope="module")
def mysql_server() -> Iterator[MysqlServer]:
    if find_server() is None:
        if os.environ.get("SYNCTV_REQUIRE_ALL") or os.environ.get("CI"):
            pytest.fail("MariaDB/MySQL is required but not installed (apt-get install mariadb-server)")
        pytest.skip("MariaDB/MySQL server not installed")
    server = MysqlServer()
    server.start()
    yield server
    server.stop()


async def test_import_mysql_upstream(mysql_server: MysqlServer, data_dir: Path) -> None:
    import asyncmy

    conn = await asyncmy.connect(host="127.0.0.1", port=mysql_server.port, user="root")
    async with conn.cursor() as cur:
        await cur.execute("CREATE DATABASE upstream CHARACTER SET utf8mb4")
    conn.close()
    await build_mysql("127.0.0.1", mysql_server.port, "upstream")
    url = f"mysql://root@127.0.0.1:{mysql_server.port}/upstream"
    _assert_first_import(ok(data_dir, "import-upstream", url))
    await _check_site(data_dir)
    _assert_nothing_new(ok(data_dir, "import-upstream", url))


def test_bad_inputs_are_one_line_errors(tmp_path: Path, data_dir: Path) -> None:
    fails(data_dir, "import-upstream", str(tmp_path / "missing.db"), contains="no such file")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    fails(data_dir, "import-upstream", str(text), contains="not a SQLite database file")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE things (id integer)").connection.commit()
    fails(data_dir, "import-upstream", str(other), contains="not an upstream SyncTV database: tables users")
    newer = tmp_path / "newer.db"
    build_sqlite(str(newer), extra_columns={"movies": "base_vendor_info_jellyfin_path"})
    fails(data_dir, "import-upstream", str(newer), contains="table movies has columns this importer does not know: "
                                                              "base_vendor_info_jellyfin_path")
    fails(data_dir, "import-upstream", "ftp://host/db", contains="unknown scheme 'ftp'")
    err = fails(data_dir, "import-upstream", "postgres://u:secret@127.0.0.1:1/db",
                contains="cannot read the upstream database postgres://u:***@127.0.0.1:1/db")
    assert "secret" not in err
    dry = ok(data_dir, "import-upstream", str(newer), "--dry-run", "--ignore-unknown-columns")
    assert _counts(dry)["users"] == (2, 0)
    # the failed runs and the dry run wrote nothing: everything is still new
    out = ok(data_dir, "import-upstream", str(newer), "--ignore-unknown-columns")
    assert _counts(out)["users"] == (2, 0) and _counts(out)["movies"] == (3, 0)
    fails(tmp_path / "nowhere", "import-upstream", str(newer), code=2, contains="does not exist")


def test_soft_deleted_rows_are_not_imported(tmp_path: Path, data_dir: Path) -> None:
    upstream = tmp_path / "soft.db"
    build_sqlite(str(upstream), extra_columns={"users": "deleted_at"})
    db = sqlite3.connect(upstream)
    db.execute("UPDATE users SET deleted_at = '2024-04-01 00:00:00+00:00' WHERE username = 'bob'")
    db.commit()
    db.close()
    out = ok(data_dir, "import-upstream", str(upstream))
    counts = _counts(out)
    assert counts["users"] == (1, 0) and counts["members"] == (1, 0), out
    assert f"skipped providers github:4242: its user {SITE.bob} was not imported" in out
    assert f"skipped movies 'Episode 1' ({SITE.episode}): its creator {SITE.bob} was not imported" in out
    assert "bob" not in ok(data_dir, "user", "search", "bob").replace("no user found", "")
