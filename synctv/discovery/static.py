"""Static membership from configuration: `cluster.discovery.static_peers`.

Each entry is ``<instance_id>=<grpc_host>:<grpc_port>`` optionally followed by ``@<http_address>``, e.g.
``node-b=10.0.0.2:9090@http://10.0.0.2:8080``. This instance is always a member; an entry with its own id is
ignored. With no entries the cluster is this single node. The list is trusted as-is (no health checks): the
mesh's own stream state tells the app which peers are reachable.
"""

from __future__ import annotations

from collections.abc import Sequence

from synctv.discovery.base import SELF_SERVICE, Member, MembershipState


def parse_static_peer(entry: str, key: str = "cluster.discovery.static_peers") -> Member:
    text = entry.strip()
    instance_id, sep, rest = text.partition("=")
    if not sep or not instance_id.strip() or not rest.strip():
        raise ValueError(f"{key}: invalid peer {entry!r} (use id=host:grpc_port[@http_address])")
    grpc_address, _, http_address = rest.partition("@")
    host, colon, port = grpc_address.strip().rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{key}: invalid gRPC address in peer {entry!r} (use id=host:grpc_port[@http_address])")
    return Member(instance_id=instance_id.strip(), grpc_address=grpc_address.strip(), http_address=http_address.strip())


class StaticDiscovery(MembershipState):
    def __init__(self, self_member: Member, peers: Sequence[str] = ()) -> None:
        super().__init__(self_member)
        self._peers = [parse_static_peer(p) for p in peers]
        ids = [p.instance_id for p in self._peers]
        if len(ids) != len(set(ids)):
            raise ValueError("cluster.discovery.static_peers: duplicate instance id")

    async def start(self) -> None:
        self._publish([p for p in self._peers if p.instance_id != self.self_member.instance_id])

    async def stop(self) -> None:
        return None

    async def resolve(self, service_name: str) -> list[Member]:
        # A static cluster only knows itself; vendor backends need a dynamic backend.
        return self.members() if service_name == SELF_SERVICE else []
