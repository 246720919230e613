"""A whole cluster in one event loop: real routers, actors and hubs over the in-process mesh, one real SQLite.

Each instance is what `app.py` wires for a cluster member minus HTTP and discovery: the test sets every
instance's membership view itself (which is how views that disagree for a moment are made). Viewers are
hub connections whose transport records the frames written to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from synctv.core import commands as c
from synctv.core.permissions import Role, RoomStatus
from synctv.core.room import MsgType, WsMessage
from synctv.discovery import Member
from synctv.mesh import MeshNode, Ring
from synctv.mesh.inprocess import InProcessNetwork, InProcessNode
from synctv.rooms import frames
from synctv.rooms.cluster.inspector import Inspector
from synctv.rooms.cluster.mesh_handler import RouterMeshHandler
from synctv.rooms.hub import Connection, LocalHub
from synctv.rooms.router import RoomRouter
from synctv.store import Store
from tests.support.mesh import CLUSTER_SECRET
from tests.support.servers import make_config


class RecordingTransport:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


class ClosingSocket:
    def __init__(self) -> None:
        self.closed_with: tuple[int, bytes] | None = None

    async def close(self, *, code: int = 1000, message: bytes = b"", drain: bool = True) -> bool:
        self.closed_with = (code, message)
        return True


def split_frames(data: bytes) -> list[bytes]:
    """The payloads of the unmasked binary WebSocket frames the hub wrote."""
    out, i = [], 0
    while i < len(data):
        n = data[i + 1] & 0x7F
        i += 2
        if n == 126:
            n, i = int.from_bytes(data[i:i + 2], "big"), i + 2
        elif n == 127:
            n, i = int.from_bytes(data[i:i + 8], "big"), i + 8
        out.append(bytes(data[i:i + n]))
        i += n
    return out


@dataclass
class Viewer:
    node: Node
    conn: Connection
    transport: RecordingTransport
    user: c.UserRef

    def messages(self) -> list[WsMessage]:
        return [frames.decode(f) for f in split_frames(bytes(self.transport.data))]

    def of_type(self, mtype: MsgType) -> list[WsMessage]:
        return [m for m in self.messages() if m.type == mtype]

    async def send(self, msg: WsMessage) -> c.Reply:
        """What the WebSocket endpoint does with a client frame: hand the bytes to the router."""
        return await self.node.router.submit(self.conn.room_id, c.ClientFrame(self.user, self.conn.conn_id,
                                                                              frames.encode(msg)))


@dataclass
class Node:
    name: str
    router: RoomRouter
    hub: LocalHub
    mesh: InProcessNode | MeshNode
    viewers: list[Viewer] = field(default_factory=list)


class InProcessCluster:
    def __init__(self, store: Store, net: InProcessNetwork, transport: str = "inprocess") -> None:
        self.store = store
        self.net = net
        self.transport = transport
        self.nodes: dict[str, Node] = {}
        self._rooms = 0

    @classmethod
    async def start(cls, data_dir: Path, *names: str, command_timeout_s: float = 2.0,
                    transport: str = "inprocess") -> InProcessCluster:
        """`transport="grpc"`: the same instances, talking real gRPC on loopback."""
        store = await Store.open(make_config(data_dir))
        cluster = cls(store, InProcessNetwork(), transport)
        for name in names:
            await cluster.add(name, command_timeout_s=command_timeout_s)
        cluster.set_view(*names)
        return cluster

    async def add(self, name: str, *, command_timeout_s: float = 2.0, secret: str = CLUSTER_SECRET,
                  protocol: tuple[int, int] | None = None) -> Node:
        """`secret` or `protocol` (in-process only) other than the cluster's make a misconfigured instance: it
        fails mesh authentication."""
        hub = LocalHub()
        router = RoomRouter(self.store, hub, name, command_timeout_s=command_timeout_s)
        mesh: InProcessNode | MeshNode
        if self.transport == "grpc":
            mesh = MeshNode(name, secret, RouterMeshHandler(router), listen="127.0.0.1", port=0,
                            inspector=Inspector(router))
        else:
            mesh = self.net.node(name, RouterMeshHandler(router), inspector=Inspector(router), secret=secret)
            if protocol is not None:
                mesh.protocol = protocol
        router.attach(mesh, Member(name))  # type: ignore[arg-type]
        await mesh.start()
        await router.start()
        node = self.nodes[name] = Node(name, router, hub, mesh)
        return node

    def set_view(self, *names: str, on: tuple[str, ...] | None = None) -> None:
        """Every instance in `on` (default: the named ones) now sees exactly `names` as members."""
        members = [self._member(n) for n in names]
        for name in on if on is not None else names:
            self.nodes[name].router.set_members(members)

    def _member(self, name: str) -> Member:
        node = self.nodes.get(name)  # a member other views still list after it left may be gone
        port = getattr(node.mesh, "bound_port", 0) if node is not None else 0
        return Member(name, grpc_address=f"127.0.0.1:{port}" if port else "")

    async def crash(self, name: str) -> None:
        node = self.nodes.pop(name)
        await node.mesh.stop(0)
        await node.router.stop()

    async def stop(self) -> None:
        for node in list(self.nodes.values()):
            await node.router.stop()
            await node.mesh.stop(0)
        await self.store.close()

    async def make_room(self) -> tuple[str, c.UserRef]:
        self._rooms += 1
        user = await self.store.users.create(f"creator{self._rooms}", b"x", Role.USER)
        room = await self.store.rooms.create(f"room{self._rooms}", user.id, b"", RoomStatus.ACTIVE, {})
        return room.id, c.UserRef(user.id, user.username)

    async def viewer(self, name: str, room_id: str, username: str) -> Viewer:
        """A logged-in user watching `room_id` on instance `name` (registered and announced as ws.py does)."""
        existing = await self.store.users.get_by_username(username)
        user = existing or await self.store.users.create(username, b"x", Role.USER)
        node = self.nodes[name]
        transport = RecordingTransport()
        conn = Connection(room_id=room_id, user_id=user.id, username=user.username,
                          conn_id=f"{name}-{username}-{len(node.viewers)}", socket=ClosingSocket(),
                          transport=transport)
        node.hub.register(conn)
        reply = await node.router.announce(room_id, user.id)
        assert reply.error is None, reply.error
        viewer = Viewer(node, conn, transport, c.UserRef(user.id, user.username))
        node.viewers.append(viewer)
        return viewer

    async def room_owned_by(self, owner: str, *, among: tuple[str, ...] | None = None) -> tuple[str, c.UserRef]:
        """A new room that the ring of `among` (default: every instance) gives to `owner`."""
        ring = Ring(among or tuple(self.nodes))
        for _ in range(200):
            room_id, creator = await self.make_room()
            if ring.owner(room_id) == owner:
                return room_id, creator
        raise AssertionError("no room hashed to the wanted owner")

    async def saved_status(self, room_id: str) -> dict[str, object]:
        row = await self.store.rooms.get(room_id)
        assert row is not None and row.current
        status: dict[str, object] = json.loads(row.current)["status"]
        return status
