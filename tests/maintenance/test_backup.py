"""`synctv backup` taken while a server writes holds every write acknowledged before it started and passes the
integrity check; `synctv restore` puts it back and a server serves it. PostgreSQL/MySQL get a pointer to their
own tools; bad inputs are one-line errors."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import aiohttp

from tests.support.api_client import Api
from tests.support.servers import start_server
from tests.test_cli import _env, fails, ok, run


async def _backup(data_dir: Path, dest: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "synctv", "backup", str(dest), "--data-dir", str(data_dir),
        env=_env(data_dir.parent), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


def _backup_contents(dest: Path) -> set[str]:
    """The backup is one owner-only file that passes the integrity check; the ids of the movies in it."""
    assert not Path(str(dest) + "-wal").exists() and dest.stat().st_mode & 0o077 == 0
    db = sqlite3.connect(dest)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return {r[0] for r in db.execute("SELECT id FROM movies")}
    finally:
        db.close()


async def test_backup_while_writing_then_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    dest = tmp_path / "backup.db"
    runtime, base = await start_server(data)
    acked: list[tuple[float, str]] = []  # (when acknowledged, movie id)
    stop = asyncio.Event()
    warmed = asyncio.Event()
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            token = await api.signup("writer", "writer-password")
            room = await api.create_room(token, "busy room")

            async def writer(n: int) -> None:
                i = 0
                while not stop.is_set() and i < 2000:  # bounded
                    movie = await api.push_movie(token, room, name=f"w{n}-{i}")
                    acked.append((asyncio.get_running_loop().time(), movie["id"]))
                    if len(acked) >= 30:
                        warmed.set()
                    i += 1

            writers = [asyncio.create_task(writer(n)) for n in range(3)]
            await asyncio.wait_for(warmed.wait(), 60)
            started = asyncio.get_running_loop().time()
            code, out, err = await _backup(data, dest)
            finished = asyncio.get_running_loop().time()
            await asyncio.sleep(0.2)
            stop.set()
            await asyncio.gather(*writers)
    finally:
        await runtime.stop()
    assert code == 0 and "integrity ok" in out, (out, err)
    before = {mid for t, mid in acked if t < started}
    during = [mid for t, mid in acked if started <= t <= finished]
    assert len(before) >= 30 and during, "the server kept writing while the backup ran"
    in_backup = _backup_contents(dest)
    assert before <= in_backup, f"{len(before - in_backup)} acknowledged writes missing from the backup"

    # restore into a fresh data dir and serve it
    other = tmp_path / "other"
    assert run(other, "migrate").returncode == 0
    fails(other, "restore", str(dest), contains="rerun with --force")
    assert "integrity ok" in ok(other, "restore", str(dest), "--force")
    runtime, base = await start_server(other)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            token = await api.login("writer", "writer-password")
            listed = await api.ok("GET", "/api/room/movie/movies", token=token, room=room, params={"max": 1})
            assert listed["total"] == len(in_backup)
    finally:
        await runtime.stop()


def test_backup_bad_inputs_and_other_databases(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "migrate").returncode == 0
    existing = tmp_path / "taken.db"
    existing.write_text("x")
    fails(data, "backup", str(existing), contains="already exists")
    fails(data, "backup", str(tmp_path / "no" / "dir.db"), contains="does not exist")
    fails(data, "restore", str(existing), "--force", contains="not a SQLite database file")
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    fails(data, "restore", str(foreign), "--force", contains="is not a SyncTV database")
    fails(data, "restore", str(tmp_path / "missing.db"), contains="no such file")
    memory = tmp_path / "memory"
    memory.mkdir()
    (memory / "config.yaml").write_text((data / "config.yaml").read_text().replace("\n  name: synctv\n",
                                                                                          "\n  name: memory\n"))
    fails(memory, "backup", str(tmp_path / "m.db"), contains="in-memory SQLite database")
    # a server configured for PostgreSQL: the command says what to use instead
    (data / "config.yaml").write_text((data / "config.yaml").read_text().replace("type: sqlite3", "type: postgres"))
    err = fails(data, "backup", str(tmp_path / "pg.db"), contains="the database is PostgreSQL")
    assert "pg_dump" in err and "docs/operations.md" in err
