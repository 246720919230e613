"""`server.public_addresses`: the other instances the web client may reconnect a room to (empty by default)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from synctv.config import ConfigError
from tests.support.servers import make_config, start_server


async def _public(data_dir: Path, **env: str) -> list[str]:
    runtime, base = await start_server(data_dir, **env)
    try:
        async with aiohttp.ClientSession() as session, session.get(base + "/api/public/settings") as resp:
            assert resp.status == 200
            addresses: list[str] = (await resp.json())["data"]["publicAddresses"]
            return addresses
    finally:
        await runtime.stop()


async def test_no_other_instance_is_offered_unless_configured(tmp_path: Path) -> None:
    assert await _public(tmp_path / "a") == []
    configured = await _public(tmp_path / "b",
                               SYNCTV_SERVER_PUBLIC_ADDRESSES="https://a.example.com/,https://b.example.com:8443")
    assert configured == ["https://a.example.com", "https://b.example.com:8443"]


@pytest.mark.parametrize("bad", ["a.example.com", "https://a.example.com/path", "javascript:alert(1)",
                                 "https://a.example.com/?x=1", "ws://a.example.com"])
def test_a_public_address_must_be_a_base_url(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="public_addresses"):
        make_config(tmp_path, SYNCTV_SERVER_PUBLIC_ADDRESSES=bad)
