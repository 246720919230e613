"""Shared fixtures: a real server (SQLite, and PostgreSQL started by the fixtures) and API clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support import oidc_server
from tests.support.api_client import Api
from tests.support.mariadb_server import MariaDbServer, find_server
from tests.support.pg_server import PostgresServer, find_bin
from tests.support.require import missing
from tests.support.servers import Server, start_server

pytest_plugins = ["tests.conftest_cluster", "tests.conftest_media", "tests.conftest_vendors"]


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


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDbServer]:
    """Debian's MariaDB on loopback (fails instead of skipping when SYNCTV_REQUIRE_MARIADB is set)."""
    if find_server() is None:
        missing("mariadb", "MariaDB server not installed (apt-get install mariadb-server)")
    server = MariaDbServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[oidc_server.OidcServer]:
    """The npm `oidc-provider` on loopback (fails instead of skipping when SYNCTV_REQUIRE_OIDC is set)."""
    missing = oidc_server.available()
    if missing is not None:
        if os.environ.get("SYNCTV_REQUIRE_OIDC") or os.environ.get("CI"):
            pytest.fail(f"the OpenID Connect provider is required but {missing}")
        pytest.skip(missing)
    server = oidc_server.OidcServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_dsn(request: pytest.FixtureRequest) -> str | None:
    """Parametrises a test over SQLite (None) and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database("t_" + uuid.uuid4().hex[:12])


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Where every component must be present (the test command, CI), a skipped test is a failed one."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and (os.environ.get("SYNCTV_REQUIRE_ALL")
                                                                 or os.environ.get("CI")):
        report.outcome = "failed"
        report.longrepr = f"skipped, but every component must be present here: {report.longrepr}"
