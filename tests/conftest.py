"""Shared fixtures: a real server (SQLite, and PostgreSQL started by the fixtures) and API clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from synctv import config
from synctv.app import Runtime
from synctv.auth.passwords import hash_password
from synctv.core.permissions import Role
from tests.api_client import Api
from tests.pg_server import PostgresServer, find_bin

pytest_plugins = ["tests.conftest_cluster"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    if find_bin() is None:
        if os.environ.get("SYNCTV_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (SYNCTV_REQUIRE_POSTGRES is set) but not installed")
        pytest.skip("PostgreSQL server not installed")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


def make_config(data_dir: Path, dsn: str | None = None, **env: str) -> config.Config:
    base_env = {"SYNCTV_SERVER_HTTP_LISTEN": "127.0.0.1", "SYNCTV_SERVER_HTTP_PORT": "0",
                "SYNCTV_LOG_LEVEL": "warning", "SYNCTV_ROOMS_IDLE_UNLOAD": "60s"}
    if dsn:
        base_env["SYNCTV_DATABASE_CUSTOM_DSN"] = dsn
        base_env["SYNCTV_DATABASE_TYPE"] = "postgres"
    base_env.update(env)
    return config.load(data_dir, env=base_env)


@pytest.fixture(params=["sqlite", "postgres"])
def db_dsn(request: pytest.FixtureRequest) -> str | None:
    """Parametrises a test over SQLite (None) and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database("t_" + uuid.uuid4().hex[:12])


class Server:
    def __init__(self, runtime: Runtime, api: Api) -> None:
        self.runtime = runtime
        self.api = api

    @property
    def store(self) -> Any:
        return self.runtime.store

    async def make_user(self, username: str, role: Role = Role.USER, password: str = "password1") -> str:
        """Create a user directly in the store and return a token for it."""
        await self.store.users.create(username, await hash_password(password), role)
        return await self.api.login(username, password)


async def start_server(data_dir: Path, dsn: str | None = None, **env: str) -> tuple[Runtime, str]:
    cfg = make_config(data_dir, dsn, **env)
    runtime = Runtime(cfg)
    runtime_quiet = runtime
    await runtime_quiet.start()
    return runtime, f"http://127.0.0.1:{runtime.port}"


@pytest.fixture
async def server(tmp_path: Path, db_dsn: str | None) -> AsyncIterator[Server]:
    runtime, base = await start_server(tmp_path / "data", db_dsn)
    async with aiohttp.ClientSession() as session:
        yield Server(runtime, Api(base, session))
    await runtime.stop()


@pytest.fixture
async def sqlite_server(tmp_path: Path) -> AsyncIterator[Server]:
    runtime, base = await start_server(tmp_path / "data")
    async with aiohttp.ClientSession() as session:
        yield Server(runtime, Api(base, session))
    await runtime.stop()
