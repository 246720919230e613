"""MariaDB (Debian's mariadb-server, started by the fixtures): the migrations (under their lock, which is taken,
checked and released), the fenced live-state writes, and the API on it."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from synctv.core.permissions import Role, RoomStatus
from synctv.store import Store, database
from synctv.store.rooms import FenceRejected
from tests.support.api_client import Api
from tests.support.mariadb_server import MariaDbServer
from tests.support.servers import make_config, start_server

pytestmark = [pytest.mark.timeout(120)]


def _cfg(tmp: Path, dsn: str) -> object:
    return make_config(tmp, dsn, SYNCTV_DATABASE_TYPE="mysql")


async def test_instances_starting_together_migrate_once_and_release_the_lock(
        mariadb_server: MariaDbServer, tmp_path: Path) -> None:
    dsn = mariadb_server.create_database("m_" + uuid.uuid4().hex[:10])
    stores = await asyncio.gather(*(Store.open(_cfg(tmp_path / f"i{i}", dsn)) for i in range(3)))  # type: ignore[arg-type]
    try:
        assert stores[0].dialect == "mysql"
        async with stores[0].engine.connect() as conn:
            head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
            assert len(head) == 1 and head[0]
            # Every instance released the session lock it took.
            assert (await conn.execute(text("SELECT IS_FREE_LOCK('synctv_migrate')"))).scalar() == 1
    finally:
        for store in stores:
            await store.close()


async def test_a_migration_lock_not_obtained_is_an_error(mariadb_server: MariaDbServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    dsn = mariadb_server.create_database("l_" + uuid.uuid4().hex[:10])
    holder = await Store.open(_cfg(tmp_path / "holder", dsn))  # type: ignore[arg-type]
    try:
        async with holder.engine.connect() as conn:
            assert (await conn.execute(text("SELECT GET_LOCK('synctv_migrate', 1)"))).scalar() == 1
            monkeypatch.setattr(database, "_MYSQL_LOCK_WAIT_S", 1)
            with pytest.raises(RuntimeError, match="could not take the migration lock"):
                await Store.open(_cfg(tmp_path / "late", dsn))  # type: ignore[arg-type]
            await conn.execute(text("SELECT RELEASE_LOCK('synctv_migrate')"))
        late = await Store.open(_cfg(tmp_path / "late2", dsn))  # type: ignore[arg-type]
        await late.close()
    finally:
        await holder.close()


async def test_live_state_writes_are_fenced_by_the_epoch(mariadb_server: MariaDbServer, tmp_path: Path) -> None:
    dsn = mariadb_server.create_database("f_" + uuid.uuid4().hex[:10])
    store = await Store.open(_cfg(tmp_path, dsn))  # type: ignore[arg-type]
    try:
        user = await store.users.create("owner", b"x", Role.USER)
        room = await store.rooms.create("r", user.id, b"", RoomStatus.ACTIVE, {})
        taken = await store.rooms.take_ownership(room.id)
        assert taken is not None
        first = taken[0]
        await store.rooms.save_current(room.id, first, json.dumps({"at": 1}), json.dumps(["op1"]))
        taken = await store.rooms.take_ownership(room.id)  # another instance takes the room over
        assert taken is not None and taken[0] == first + 1 and json.loads(taken[1]) == {"at": 1}
        with pytest.raises(FenceRejected):
            await store.rooms.save_current(room.id, first, json.dumps({"at": 2}), json.dumps(["op2"]))
        await store.rooms.save_current(room.id, first + 1, json.dumps({"at": 3}), json.dumps(["op3"]))
        row = await store.rooms.get(room.id)
        assert row is not None and json.loads(row.current) == {"at": 3} and row.owner_epoch == first + 1
    finally:
        await store.close()


async def test_the_api_on_mariadb(mariadb_server: MariaDbServer, tmp_path: Path) -> None:
    dsn = mariadb_server.create_database("a_" + uuid.uuid4().hex[:10])
    runtime, base = await start_server(tmp_path / "data", dsn, SYNCTV_DATABASE_TYPE="mysql")
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            alice = await api.signup("alice")
            room = await api.create_room(alice, "mariadb-room")
            movie = await api.push_movie(alice, room, "clip", "https://example.com/clip.mp4")
            assert movie
            status, body = await api.call("GET", "/api/room/movie/movies", token=alice, room=room,
                                          params={"page": "1", "max": "10"})
            assert status == 200 and '"clip"' in json.dumps(body), body
    finally:
        await runtime.stop()
