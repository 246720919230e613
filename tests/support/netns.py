"""Instances in network namespaces, for real partitions (root and iproute2 needed).

Each instance has its own namespace with two links:
- `svc`, a veth pair to the root namespace (10.213.<i>.2 here, 10.213.<i>.1 there): the test reaches the
  instance's HTTP (and inspection gRPC) over it, and the instance reaches etcd and PostgreSQL over it through a
  relay bound to 10.213.<i>.1. Only the connected /24 is routed, so no instance reaches another this way.
- `mesh`, a veth pair to a bridge in a namespace of its own (10.214.0.<i>/24): the only path between instances.

A partition takes links down: the mesh link alone cuts an instance off from its peers only (it still reaches
etcd and the database), both links cut it off from everything. There is no packet filter or `netem` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass

from tests.support.cluster_harness import Instance


def available() -> str:
    """'' if namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (ip) not installed"
    return ""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass
class Slot:
    index: int
    netns: str

    @property
    def host_side(self) -> str:
        """The root namespace's end of the svc link: where this instance finds etcd and the database."""
        return f"10.213.{self.index}.1"

    @property
    def address(self) -> str:
        """The instance's svc address: its HTTP, seen from the test."""
        return f"10.213.{self.index}.2"

    @property
    def mesh_address(self) -> str:
        return f"10.214.0.{self.index}"


class NetnsLab:
    def __init__(self, size: int) -> None:
        self.tag = uuid.uuid4().hex[:5]
        self.mesh_ns = f"stv{self.tag}m"
        self.slots = [Slot(i + 1, f"stv{self.tag}n{i + 1}") for i in range(size)]
        self._relays: list[asyncio.AbstractServer] = []
        self._created: list[str] = []
        self._root_links: list[str] = []

    def create(self) -> None:
        _ip("netns", "add", self.mesh_ns)
        self._created.append(self.mesh_ns)
        _ip("-n", self.mesh_ns, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.mesh_ns, "link", "set", "br0", "up")
        for s in self.slots:
            _ip("netns", "add", s.netns)
            self._created.append(s.netns)
            _ip("-n", s.netns, "link", "set", "lo", "up")
            root_end = f"stv{self.tag}s{s.index}"
            _ip("link", "add", root_end, "type", "veth", "peer", "name", "svc", "netns", s.netns)
            self._root_links.append(root_end)
            _ip("addr", "add", f"{s.host_side}/24", "dev", root_end)
            _ip("link", "set", root_end, "up")
            _ip("-n", s.netns, "addr", "add", f"{s.address}/24", "dev", "svc")
            _ip("-n", s.netns, "link", "set", "svc", "up")
            _ip("-n", s.netns, "link", "add", "mesh", "type", "veth", "peer", "name", f"k{s.index}",
                "netns", self.mesh_ns)
            _ip("-n", self.mesh_ns, "link", "set", f"k{s.index}", "master", "br0")
            _ip("-n", self.mesh_ns, "link", "set", f"k{s.index}", "up")
            _ip("-n", s.netns, "addr", "add", f"{s.mesh_address}/24", "dev", "mesh")
            _ip("-n", s.netns, "link", "set", "mesh", "up")

    def destroy(self) -> None:
        for relay in self._relays:
            relay.close()
        for link in self._root_links:  # normally gone with its namespace
            subprocess.run(["ip", "link", "del", link], capture_output=True)
        for ns in reversed(self._created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    # -- partitions ----------------------------------------------------------------------------------------

    def cut_mesh(self, slot: Slot) -> None:
        _ip("-n", slot.netns, "link", "set", "mesh", "down")

    def cut_everything(self, slot: Slot) -> None:
        self.cut_mesh(slot)
        _ip("-n", slot.netns, "link", "set", "svc", "down")

    def heal(self, slot: Slot) -> None:
        for link in ("svc", "mesh"):
            _ip("-n", slot.netns, "link", "set", link, "up")

    # -- shared services -----------------------------------------------------------------------------------

    async def relay(self, slot: Slot, port: int, target_port: int) -> None:
        """Forward slot.host_side:port to 127.0.0.1:target_port (etcd and PostgreSQL listen on loopback)."""

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    writer.close()

        async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            try:
                server_r, server_w = await asyncio.open_connection("127.0.0.1", target_port)
            except OSError:
                client_w.close()
                return
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w), return_exceptions=True)

        self._relays.append(await asyncio.start_server(handle, slot.host_side, port))


class NsInstance(Instance):
    """A `synctv serve` process inside a slot's namespace."""

    slot: Slot

    @property
    def base(self) -> str:
        return f"http://{self.slot.address}:{self.http_port}"

    @property
    def inspect_address(self) -> str:
        return f"{self.slot.address}:{self.grpc_port}"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.slot.netns, sys.executable, "-m", "synctv", "serve", "--data-dir",
             str(self.data_dir), "--listen", "0.0.0.0", "--port", str(self.http_port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
