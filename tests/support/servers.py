"""Real servers for tests and benchmarks: a config on a temporary data dir, a started Runtime, and a handle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synctv import config
from synctv.app import Runtime
from synctv.auth.passwords import hash_password
from synctv.core.permissions import Role
from tests.support.api_client import Api


def make_config(data_dir: Path, dsn: str | None = None, **env: str) -> config.Config:
    base_env = {"SYNCTV_SERVER_HTTP_LISTEN": "127.0.0.1", "SYNCTV_SERVER_HTTP_PORT": "0",
                "SYNCTV_LOG_LEVEL": "warning", "SYNCTV_ROOMS_IDLE_UNLOAD": "60s"}
    if dsn:
        base_env["SYNCTV_DATABASE_CUSTOM_DSN"] = dsn
        base_env["SYNCTV_DATABASE_TYPE"] = "postgres"
    base_env.update(env)
    return config.load(data_dir, env=base_env)


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
