"""The command line, run as a subprocess against a temporary data directory (SQLite)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ID_RE = re.compile(r"id: ([0-9a-f]{32})")
MISSING_ID = "f" * 32


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCTV_")}
    env.update(HOME=str(home), SYNCTV_LOG_LEVEL="warning", **extra)
    return env


def run(data_dir: Path | None, *args: str, env: dict[str, str] | None = None,
        before: bool = False) -> subprocess.CompletedProcess[str]:
    """`synctv ARGS --data-dir DIR` (the option after the command's own arguments, unless `before`)."""
    cmd = [sys.executable, "-m", "synctv"]
    dd = ["--data-dir", str(data_dir)] if data_dir is not None else []
    cmd += [*dd, *args] if before else [*args, *dd]
    home = (data_dir or Path.cwd()).parent
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env or _env(home),
                          cwd=str(home))


def ok(data_dir: Path | None, *args: str, before: bool = False) -> str:
    res = run(data_dir, *args, before=before)
    assert res.returncode == 0, (args, res.stdout, res.stderr)
    return res.stdout


def fails(data_dir: Path | None, *args: str, code: int = 1, contains: str = "") -> str:
    res = run(data_dir, *args)
    assert res.returncode == code, (args, res.returncode, res.stdout, res.stderr)
    err = res.stderr.strip()
    assert err.startswith("synctv: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in res.stderr
    assert contains in err, err
    return err


def _id(output: str) -> str:
    m = ID_RE.search(output)
    assert m, output
    return m.group(1)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    ok(d, "migrate")
    return d


def test_version_and_help(tmp_path: Path) -> None:
    assert ok(None, "version").startswith("synctv ")
    top = ok(None, "--help")
    for cmd in ("serve", "version", "migrate", "user", "admin", "root", "setting"):
        assert cmd in top
    commands: list[tuple[str, ...]] = [("user",), ("user", "add"), ("admin",), ("root", "remove"), ("setting", "show")]
    for command in commands:
        out = ok(None, *command, "--help")
        assert "--data-dir" in out
    res = run(None, "user")
    assert res.returncode == 2 and "required" in res.stderr


def test_migrate(tmp_path: Path) -> None:
    d = tmp_path / "fresh"
    out = ok(d, "migrate")
    assert "up to date" in out
    assert (d / "config.yaml").exists() and (d / "synctv.db").exists()
    assert "up to date" in ok(d, "migrate", before=True)


def test_user_commands(data_dir: Path) -> None:
    d = data_dir
    alice = _id(ok(d, "user", "add", "alice", "secret12"))
    bob = _id(ok(d, "user", "add", "bob", "secret12", "--role", "admin"))
    assert "role: admin" in ok(d, "user", "search", bob)
    found = ok(d, "user", "search", "ali")
    assert alice in found and "username: alice" in found and "role: user" in found
    assert "no user found" in ok(d, "user", "search", "nobody-here")
    assert "guest" not in ok(d, "user", "search", "guest")

    fails(d, "user", "add", "alice", "secret12", contains="already taken")
    fails(d, "user", "add", "x" * 40, "secret12", contains="too long")
    fails(d, "user", "add", "carol", "", contains="password")
    fails(d, "user", "add", "carol", "sécret", contains="password")
    res = run(d, "user", "add", "carol", "secret12", "--role", "wizard")
    assert res.returncode == 2 and "invalid choice" in res.stderr

    assert "banned user alice" in ok(d, "user", "ban", alice)
    assert "role: banned" in ok(d, "user", "search", alice)
    assert "already banned" in ok(d, "user", "ban", alice)
    assert "unbanned" in ok(d, "user", "unban", alice)
    fails(d, "user", "unban", alice, contains="not banned")
    assert "role: user" in ok(d, "user", "search", alice)

    assert "changed the password" in ok(d, "user", "password", alice, "another1")
    fails(d, "user", "password", alice, "", contains="password is empty")

    for cmd in (("user", "ban"), ("user", "unban"), ("user", "delete"), ("admin", "add"), ("admin", "remove"),
                ("root", "add"), ("root", "remove")):
        fails(d, *cmd, "not-a-user", contains="not found (give a username or a 32-character user id")
        fails(d, *cmd, MISSING_ID, contains="not found")
    fails(d, "user", "password", MISSING_ID, "secret12", contains="not found")
    fails(d, "user", "ban", "00000000000000000000000000000001", contains="not found")  # the built-in guest

    assert "deleted user alice" in ok(d, "user", "delete", alice)
    assert "no user found" in ok(d, "user", "search", "alice")
    fails(d, "user", "delete", alice, contains="not found")


async def test_password_set_by_cli_works_for_login(tmp_path: Path) -> None:
    """The CLI writes the same data the server reads: a password set here logs in over HTTP."""
    import aiohttp

    from tests.support.api_client import Api
    from tests.support.servers import start_server

    d = tmp_path / "data"
    runtime, base = await start_server(d)
    try:
        uid = _id(ok(d, "user", "add", "dana", "first123"))
        async with aiohttp.ClientSession() as session:
            api = Api(base, session)
            token = await api.login("dana", "first123")
            ok(d, "user", "password", uid, "second12")
            status, _ = await api.call("GET", "/api/user/me", token=token)
            assert status == 401
            await api.login("dana", "second12")
            ok(d, "user", "ban", uid)
            status, body = await api.call("POST", "/api/user/login", json={"username": "dana",
                                                                           "password": "second12"})
            assert status == 200 and "token" not in body["data"] and body["data"]["role"] == 1
            ok(d, "admin", "add", uid)
            await api.login("dana", "second12")
    finally:
        await runtime.stop()


def test_admin_and_root_commands(data_dir: Path) -> None:
    d = data_dir
    alice = _id(ok(d, "user", "add", "alice", "secret12"))
    assert "no admin users" in ok(d, "admin", "show")
    assert "no root users" in ok(d, "root", "show")

    assert "now an admin" in ok(d, "admin", "add", alice)
    assert "already an admin" in ok(d, "admin", "add", alice)
    shown = ok(d, "admin", "show")
    assert alice in shown and "username: alice" in shown
    assert "no longer an admin" in ok(d, "admin", "remove", alice)
    fails(d, "admin", "remove", alice, contains="not an admin")

    boss = _id(ok(d, "user", "add", "boss", "secret12", "--role", "root"))
    assert "now a root user" in ok(d, "root", "add", alice)
    assert "already a root" in ok(d, "root", "add", alice)
    shown = ok(d, "root", "show")
    assert alice in shown and boss in shown
    fails(d, "admin", "add", alice, contains="root user")
    fails(d, "user", "ban", alice, contains="root user")
    fails(d, "user", "delete", alice, contains="root user")
    assert "no longer a root" in ok(d, "root", "remove", alice)
    fails(d, "root", "remove", alice, contains="not a root")
    fails(d, "root", "remove", boss, contains="last root")
    assert boss in ok(d, "root", "show")


def test_setting_commands(data_dir: Path) -> None:
    d = data_dir
    everything = yaml.safe_load(ok(d, "setting", "show"))
    assert everything["room"]["room_ttl"] == 48 and everything["user"]["enable_guest"] is True
    assert "oauth2_github" in everything and everything["email"]["smtp_port"] == 587
    room = yaml.safe_load(ok(d, "setting", "show", "room"))
    assert set(room) == {"room"}
    oauth = yaml.safe_load(ok(d, "setting", "show", "oauth2"))
    assert oauth and all(g.startswith("oauth2_") for g in oauth)

    assert ok(d, "setting", "set", "room_ttl", "12").strip() == "room_ttl = 12"
    assert ok(d, "setting", "set", "enable_guest", "false").strip() == "enable_guest = false"
    ok(d, "setting", "set", "p2p_zone", "eu")
    after = yaml.safe_load(ok(d, "setting", "show"))
    assert after["room"]["room_ttl"] == 12 and after["user"]["enable_guest"] is False
    assert after["server"]["p2p_zone"] == "eu"

    fails(d, "setting", "show", "nope", contains="not found")
    fails(d, "setting", "set", "no_such", "1", contains="not found")
    fails(d, "setting", "set", "room_ttl", "soon", contains="integer")
    fails(d, "setting", "set", "room_ttl", "0", contains="at least 1")
    fails(d, "setting", "set", "enable_guest", "maybe", contains="boolean")
    fails(d, "setting", "set", "database_version", "1", contains="read-only")
    ok(d, "setting", "set", "room_must_need_pwd", "true")
    fails(d, "setting", "set", "room_must_no_need_pwd", "true", contains="mutually exclusive")
    assert yaml.safe_load(ok(d, "setting", "show", "room"))["room"]["room_ttl"] == 12


def test_data_dir_positions_and_environment(tmp_path: Path) -> None:
    d = tmp_path / "data"
    ok(d, "migrate")
    uid = _id(ok(d, "user", "add", "early", "secret12", before=True))
    assert uid in ok(d, "user", "search", "early")  # --data-dir after the arguments
    res = subprocess.run([sys.executable, "-m", "synctv", "user", "--data-dir", str(d), "search", "early"],
                         capture_output=True, text=True, timeout=60, env=_env(tmp_path))
    assert res.returncode == 0 and uid in res.stdout
    res = subprocess.run([sys.executable, "-m", "synctv", "user", "search", "early"], capture_output=True, text=True,
                         timeout=60, env=_env(tmp_path, SYNCTV_DATA_DIR=str(d)))
    assert res.returncode == 0 and uid in res.stdout, res.stderr


def test_bad_configuration_is_one_line(tmp_path: Path) -> None:
    d = tmp_path / "broken"
    d.mkdir()
    (d / "config.yaml").write_text("server: [unclosed\n")
    err = fails(d, "user", "search", "x", code=2, contains="invalid configuration")
    assert "YAML" in err
    (d / "config.yaml").write_text("database:\n  type: oracle\n")
    fails(d, "setting", "show", code=2, contains="invalid configuration")
    # a database that cannot be reached
    (d / "config.yaml").write_text("database:\n  type: postgres\n  host: 127.0.0.1\n  port: 1\n")
    fails(d, "migrate", code=1, contains="database (postgresql at 127.0.0.1:1/synctv): connection refused")
    file_in_the_way = tmp_path / "a-file"
    file_in_the_way.write_text("")
    fails(file_in_the_way, "migrate", code=2, contains="data directory")


def test_cluster_commands_hook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Cluster commands, when that module is installed, plug into the parser and get the loaded config."""
    import argparse
    import types

    from synctv import cli
    from synctv.config import Config

    calls: list[tuple[str, str]] = []

    def handler(args: argparse.Namespace, cfg: Config) -> int:
        calls.append((args.what, cfg.data_dir))
        return 7

    def add_cluster_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                             common: argparse.ArgumentParser) -> None:
        p = sub.add_parser("cluster", parents=[common], help="cluster tools")
        p.add_argument("what")
        p.set_defaults(cluster_handler=handler)

    module = types.ModuleType("synctv.cli_cluster")
    setattr(module, "add_cluster_commands", add_cluster_commands)  # noqa: B010
    monkeypatch.setitem(sys.modules, "synctv.cli_cluster", module)
    d = tmp_path / "data"
    d.mkdir()
    assert cli.main(["cluster", "status", "--data-dir", str(d)]) == 7
    assert calls == [("status", str(d))]
    # the management commands are still there
    assert "user" in cli.build_parser().format_help()
