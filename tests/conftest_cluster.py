"""Pytest plugin with cluster fixtures: mesh handlers, mesh nodes on loopback, a real etcd, the consul emulation.

Enable from tests/conftest.py with: pytest_plugins = ["tests.conftest_cluster"]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from synctv.mesh import MeshNode
from tests.support.mesh import CLUSTER_SECRET, MeshFactory, RecordingHandler
from tests.support.require import missing


@pytest.fixture
async def mesh_factory() -> AsyncIterator[MeshFactory]:
    """Start MeshNodes on 127.0.0.1 with ephemeral ports; all are stopped at teardown."""
    started: list[MeshNode] = []

    async def make(
        instance_id: str, secret: str = CLUSTER_SECRET, port: int = 0, **kwargs: Any
    ) -> tuple[MeshNode, RecordingHandler]:
        handler = RecordingHandler(instance_id)
        node = MeshNode(instance_id, secret, handler, listen="127.0.0.1", port=port, **kwargs)
        await node.start()
        started.append(node)
        return node, handler

    yield make
    for node in reversed(started):
        await node.stop(0)


@pytest.fixture
def etcd_server() -> Iterator[Any]:
    """A real etcd on loopback (random ports, temp data dir); skipped when the binary is missing."""
    from tests.support.etcd_server import EtcdServer

    if not EtcdServer.available():
        missing("etcd", "etcd binary not installed")
    server = EtcdServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
async def consul_emulator() -> AsyncIterator[Any]:
    """The in-repo emulation of the Consul HTTP API subset the consul backend uses."""
    from tests.support.consul_emulator import ConsulEmulator

    emu = ConsulEmulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
