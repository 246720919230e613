"""First start: the first root user is created only once the server listens, and its password stays retrievable."""

from __future__ import annotations

import logging
import socket
import stat
from pathlib import Path

import aiohttp
import pytest

from synctv import logs
from synctv.app import Runtime
from synctv.core.permissions import Role
from synctv.first_root import PASSWORD_FILE, ensure_first_root
from synctv.store import Store
from tests.support.api_client import Api
from tests.support.servers import make_config, start_server


def _password(data_dir: Path) -> str:
    lines = dict(line.split(": ", 1) for line in (data_dir / PASSWORD_FILE).read_text().splitlines()
                 if not line.startswith("#"))
    return lines["password"]


async def test_busy_port_creates_no_root_and_the_next_start_offers_the_password(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    d = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        runtime = Runtime(make_config(d, SYNCTV_SERVER_HTTP_PORT=str(port)))
        with pytest.raises(OSError):
            await runtime.start()
        await runtime.stop()
    assert "Created the first root user" not in capsys.readouterr().out
    assert not (d / PASSWORD_FILE).exists()
    store = await Store.open(make_config(d))
    try:
        assert await store.users.count_role(Role.ROOT) == 0
    finally:
        await store.close()

    # the next start creates it, prints the password once and keeps it in an owner-only file
    runtime, base = await start_server(d)
    try:
        printed = capsys.readouterr().out
        assert "Created the first root user 'root' with password: " in printed
        password = _password(d)
        assert password in printed and str(d / PASSWORD_FILE) in printed
        assert stat.S_IMODE((d / PASSWORD_FILE).stat().st_mode) == 0o600
        async with aiohttp.ClientSession() as session:
            token = await Api(base, session).login("root", password)
    finally:
        await runtime.stop()

    # a restart creates nothing new and says where the unchanged password is
    caplog.set_level(logging.WARNING, logger="synctv.first_root")
    runtime, base = await start_server(d)
    try:
        assert "Created the first root user" not in capsys.readouterr().out
        assert any("still has its one-time password" in r.getMessage() for r in caplog.records)
        assert _password(d) == password
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            token = await api.login("root", password)
            await api.ok("POST", "/api/user/password", token=token, json={"password": "a changed password"})
    finally:
        await runtime.stop()

    # once changed, the next start deletes the file
    caplog.clear()
    runtime, _ = await start_server(d)
    try:
        assert not (d / PASSWORD_FILE).exists()
        assert not any("still has its one-time password" in r.getMessage() for r in caplog.records)
    finally:
        await runtime.stop()


async def test_a_second_instance_says_where_the_password_is(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """Two data dirs on one database (as two machines of a cluster): only the creator has the file."""
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    first, _ = await start_server(tmp_path / "a", SYNCTV_DATABASE_CUSTOM_DSN=shared)
    try:
        assert (tmp_path / "a" / PASSWORD_FILE).exists()
        caplog.set_level(logging.WARNING, logger="synctv.first_root")
        second, _ = await start_server(tmp_path / "b", SYNCTV_DATABASE_CUSTOM_DSN=shared)
        await second.stop()
    finally:
        await first.stop()
    assert not (tmp_path / "b" / PASSWORD_FILE).exists()
    notes = [r for r in caplog.records if "kept by the instance that created it" in r.getMessage()]
    assert notes and getattr(notes[0], "kept_in", "") == str(tmp_path / "a" / PASSWORD_FILE)
    # The written line names the file: a path is not a secret, so the redaction keeps it.
    for fmt in ("json", "text"):
        assert str(tmp_path / "a" / PASSWORD_FILE) in logs.formatter(fmt, "b").format(notes[0])
    assert getattr(notes[0], "instance", "") == first.instance_id


async def test_an_instance_that_counted_no_root_just_before_another_created_it_creates_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two instances starting together: the second counted no root a moment before the first created "root".
    It must not create a second root user under another name (seen as 'root' plus 'root-1a2b3c')."""
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    store = await Store.open(make_config(tmp_path / "a", SYNCTV_DATABASE_CUSTOM_DSN=shared))
    try:
        await ensure_first_root(store, make_config(tmp_path / "a", SYNCTV_DATABASE_CUSTOM_DSN=shared), "a",
                                announce=lambda _text: None)
        real_count = store.users.count_role
        calls = 0

        async def count_before_the_insert(role: Role) -> int:
            nonlocal calls
            calls += 1
            return 0 if calls == 1 else await real_count(role)  # the first read predates the other's insert

        monkeypatch.setattr(store.users, "count_role", count_before_the_insert)
        announced: list[str] = []
        (tmp_path / "b").mkdir()
        await ensure_first_root(store, make_config(tmp_path / "b", SYNCTV_DATABASE_CUSTOM_DSN=shared), "b",
                                announce=announced.append)
        monkeypatch.undo()
        assert announced == []
        assert not (tmp_path / "b" / PASSWORD_FILE).exists()
        assert await store.users.count_role(Role.ROOT) == 1
        assert (tmp_path / "a" / PASSWORD_FILE).exists()
    finally:
        await store.close()
