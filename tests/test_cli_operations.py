"""The CLI as an operator meets it: names or ids, passwords off the command line, data dirs that must exist,
read-only commands that write nothing, and setting changes that a running server picks up."""

from __future__ import annotations

import asyncio
import hashlib
import io
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import jwt
import pytest

from synctv.mesh.auth import INSPECT_AUDIENCE, verify_token
from synctv.rooms.hub import CLOSE_KICKED
from tests.support.api_client import Api
from tests.support.servers import start_server
from tests.test_cli import _env, _id, fails, ok, run


def _stdin(data_dir: Path, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "synctv", *args, "--password-stdin", "--data-dir", str(data_dir)]
    return subprocess.run(cmd, input=password + "\n", capture_output=True, text=True, timeout=60,
                          env=_env(data_dir.parent), cwd=str(data_dir.parent))


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under `root` with a digest of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    res = run(d, "migrate")
    assert res.returncode == 0 and "initialising a new data directory" in res.stderr, res.stderr
    return d


def test_version_flag() -> None:
    res = subprocess.run([sys.executable, "-m", "synctv", "--version"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.startswith("synctv 0."), (res.stdout, res.stderr)


def test_users_by_name_or_id_and_passwords_from_stdin(data_dir: Path) -> None:
    d = data_dir
    res = _stdin(d, "user", "add", "alice", password="correct horse")
    assert res.returncode == 0 and "warning" not in res.stderr, res.stderr
    alice = _id(res.stdout)
    # no password anywhere: refused with a hint (the tests' stdin is not a terminal, so no prompt)
    fails(d, "user", "add", "bob", contains="--password-stdin")
    fails(d, "user", "password", "alice", contains="--password-stdin")
    res = _stdin(d, "user", "add", "bob", password="")
    assert res.returncode == 1 and "password is empty" in res.stderr
    # on the command line it still works, with a warning
    res = run(d, "user", "add", "bob", "battery staple")
    assert res.returncode == 0 and "shell history" in res.stderr
    bob = _id(res.stdout)

    # every command that takes a user takes a name or an id
    assert f"banned user alice ({alice})" in ok(d, "user", "ban", "alice")
    assert "unbanned user alice" in ok(d, "user", "unban", alice)
    assert "now an admin" in ok(d, "admin", "add", "bob")
    assert "no longer an admin" in ok(d, "admin", "remove", bob.upper())
    assert "now a root user" in ok(d, "root", "add", "bob")
    assert "now a root user" in ok(d, "root", "add", alice)
    assert "no longer a root user" in ok(d, "root", "remove", "bob")
    res = _stdin(d, "user", "password", "alice", password="a new passphrase")
    assert res.returncode == 0 and "changed the password of alice" in res.stdout, res.stderr
    err = fails(d, "user", "delete", "carol")
    assert "user 'carol' not found" in err and "synctv user search" in err
    assert "deleted user bob" in ok(d, "user", "delete", "bob")


async def test_password_from_stdin_logs_in(data_dir: Path) -> None:
    runtime, base = await start_server(data_dir)
    try:
        res = await asyncio.to_thread(_stdin, data_dir, "user", "add", "dana", password="long enough 1")
        assert res.returncode == 0, res.stderr
        async with aiohttp.ClientSession() as session:
            await Api(base, session).login("dana", "long enough 1")
    finally:
        await runtime.stop()


def test_password_policy_and_setting_ranges(data_dir: Path) -> None:
    d = data_dir
    res = _stdin(d, "user", "add", "erin", password="short")
    assert res.returncode == 1 and "password is too short (at least 8 characters)" in res.stderr
    ok(d, "setting", "set", "password_min_length", "4")
    assert _stdin(d, "user", "add", "erin", password="short").returncode == 0
    fails(d, "setting", "set", "password_min_length", "0", contains="at least 1")
    fails(d, "setting", "set", "password_min_length", "33", contains="at most 32")
    fails(d, "setting", "set", "user_max_room_count", "-5", contains="must be at least 0")
    assert ok(d, "setting", "set", "user_max_room_count", "0").strip() == "user_max_room_count = 0"
    fails(d, "user", "add", " erin2", "password1", contains="starts or ends with a space")


def test_missing_data_dir_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    for args in (("user", "search", "x"), ("setting", "show"), ("setting", "set", "enable_guest", "false"),
                 ("admin", "add", "x"), ("cluster", "status")):
        err = fails(missing, *args, code=2, contains="does not exist")
        assert str(missing) in err and "synctv serve" in err
        assert not missing.exists()
    # an existing directory without a database (a typo onto another directory) is an error too
    empty = tmp_path / "empty"
    empty.mkdir()
    fails(empty, "user", "search", "x", code=2, contains=f"no database at {empty / 'synctv.db'}")
    fails(empty, "user", "ban", "x", code=2, contains="no database at")
    assert list(empty.iterdir()) == []
    # the default data dir follows the same rule
    res = subprocess.run([sys.executable, "-m", "synctv", "setting", "show"], capture_output=True, text=True,
                         timeout=60, env=_env(tmp_path), cwd=str(tmp_path))
    assert res.returncode == 2 and f"{tmp_path / '.synctv'} does not exist" in res.stderr
    assert not (tmp_path / ".synctv").exists()


def test_read_only_commands_write_nothing(data_dir: Path, tmp_path: Path) -> None:
    d = data_dir
    ok(d, "user", "add", "alice", "password1")
    ok(d, "admin", "add", "alice")
    before = _snapshot(d)
    assert "config.yaml" in before and "synctv.db" in before
    for args in (("user", "search", "ali"), ("admin", "show"), ("root", "show"), ("setting", "show"),
                 ("setting", "show", "user")):
        ok(d, *args)
    fails(d, "cluster", "status", code=2, contains="cluster.secret is not set")
    assert _snapshot(d) == before
    # without a config.yaml nothing writes one (and no JWT secret is generated into it)
    (d / "config.yaml").unlink()
    before = _snapshot(d)
    ok(d, "setting", "show")
    fails(d, "cluster", "status", code=2)
    ok(d, "user", "ban", "alice")  # a write to the database, not to the configuration
    assert not (d / "config.yaml").exists()


async def _wait_for(check: object, timeout: float = 5.0) -> bool:
    """Poll an async predicate (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if await check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.1)
    return False


async def test_setting_set_reaches_running_servers(tmp_path: Path) -> None:
    """Two instances on one database; the CLI writes the database; both follow within the poll interval."""
    d = tmp_path / "data"
    first, base1 = await start_server(d)
    second, base2 = await start_server(d)
    try:
        async with aiohttp.ClientSession() as session:
            apis = [Api(base1, session), Api(base2, session)]
            for api in apis:
                assert (await api.ok("GET", "/api/public/settings"))["guestEnable"] is True
            res = await asyncio.to_thread(run, d, "setting", "set", "enable_guest", "false")
            assert res.returncode == 0, res.stderr

            async def both_see_it() -> bool:
                seen = [(await api.ok("GET", "/api/public/settings"))["guestEnable"] for api in apis]
                return seen == [False, False]

            assert await _wait_for(both_see_it)
            # and a change made through one instance's admin API reaches the other the same way
            assert first.store is not None
            await first.store.settings.set_many({"p2p_zone": "eu"})

            async def second_sees_zone() -> bool:
                return bool((await apis[1].ok("GET", "/api/public/settings"))["p2pZone"] == "eu")

            assert await _wait_for(second_sees_zone)
    finally:
        await second.stop()
        await first.stop()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_password_prompt_in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a terminal the password is asked for twice (without echo, by getpass) and must match."""
    import argparse
    import getpass

    from synctv import cli_manage

    asked: list[str] = []
    answers = iter(["typed twice", "typed twice", "one thing", "another"])

    def fake_getpass(prompt: str = "") -> str:
        asked.append(prompt)
        return next(answers)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    args = argparse.Namespace(password_stdin=False, password=None)
    assert cli_manage.read_password(args, "password", stdin=_Terminal()) == "typed twice"
    assert asked == ["New password: ", "Repeat it: "]
    with pytest.raises(cli_manage.CliError, match="do not match"):
        cli_manage.read_password(args, "password", stdin=_Terminal())
    # not a terminal and nothing given: refused, never a silent empty password
    with pytest.raises(cli_manage.CliError, match="--password-stdin"):
        cli_manage.read_password(args, "password", stdin=io.StringIO(""))


def test_placeholder_secrets_are_warned_about(tmp_path: Path) -> None:
    with socket.socket() as busy:  # the start fails fast on the busy port, after the warnings
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        res = subprocess.run(
            [sys.executable, "-m", "synctv", "serve", "--data-dir", str(tmp_path / "data"),
             "--port", str(busy.getsockname()[1])], capture_output=True, text=True, timeout=60,
            env=_env(tmp_path, SYNCTV_SERVER_HTTP_LISTEN="127.0.0.1",
                     SYNCTV_JWT_SECRET="PLACEHOLDER-jwt-secret-change-me"), cwd=str(tmp_path))
    assert res.returncode == 1
    warnings = [line for line in res.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "jwt.secret still holds the public placeholder" in warnings[0], res.stderr


async def test_cli_ban_and_password_change_close_open_websockets(tmp_path: Path) -> None:
    """The CLI writes the database directly; the running server notices within its poll and closes the
    banned user's socket and the sockets opened with a password that was changed, and no one else's."""
    d = tmp_path / "data"
    server, base = await start_server(d)
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            owner = await api.signup("owner1")
            room = await api.create_room(owner, "cli-room")
            tokens = {name: await api.signup(name) for name in ("banned1", "changed1", "bystander1")}
            sockets = {name: await api.ws(room, tok) for name, tok in tokens.items()}
            res = await asyncio.to_thread(run, d, "user", "ban", "banned1")
            assert res.returncode == 0, res.stderr
            res = await asyncio.to_thread(_stdin, d, "user", "password", "changed1", password="another-pass1")
            assert res.returncode == 0, res.stderr

            for name in ("banned1", "changed1"):
                msg = await sockets[name].ws.receive(timeout=5.0)
                while msg.type == aiohttp.WSMsgType.BINARY:  # viewer counts and the like before the close
                    msg = await sockets[name].ws.receive(timeout=5.0)
                assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == CLOSE_KICKED, (name, msg)
            assert not sockets["bystander1"].ws.closed
            # the banned token no longer works anywhere
            status, _ = await api.call("GET", "/api/user/me", token=tokens["banned1"])
            assert status == 401
    finally:
        await server.stop()


def test_cluster_token_is_a_short_lived_inspection_credential(data_dir: Path) -> None:
    secret = "cluster-secret-for-the-token-test-0123456789"
    env = _env(data_dir.parent, SYNCTV_CLUSTER_SECRET=secret)
    before = _snapshot(data_dir)
    res = run(data_dir, "cluster", "token", "--ttl", "30", env=env)
    assert res.returncode == 0, res.stderr
    token = res.stdout.strip()
    caller = verify_token(token, secret, "any-instance")
    assert caller.scope == "inspect"
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience=INSPECT_AUDIENCE)
    assert claims["exp"] - claims["iat"] == 30
    with pytest.raises(jwt.InvalidTokenError):  # signed with the cluster secret, nothing else
        verify_token(token, "another-secret-of-the-same-length-0123456789", "any-instance")
    assert _snapshot(data_dir) == before  # read-only: writes nothing
    for bad in ("0", "301", "-5"):
        res = run(data_dir, "cluster", "token", "--ttl", bad, env=env)
        assert res.returncode == 2 and "--ttl must be between 1 and 300" in res.stderr, res.stderr
    fails(data_dir, "cluster", "token", code=2, contains="cluster.secret is not set")
