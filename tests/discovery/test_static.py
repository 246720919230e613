"""Static discovery and the backend factory's configuration errors."""

from __future__ import annotations

import pytest

from synctv.config import ClusterConfig
from synctv.discovery import Discovery, Member, create_discovery
from synctv.discovery.static import StaticDiscovery, parse_static_peer

SELF = Member(instance_id="node-a", grpc_address="127.0.0.1:9090", http_address="http://127.0.0.1:8080")


def test_parse_static_peer() -> None:
    m = parse_static_peer("node-b=10.0.0.2:9090@http://10.0.0.2:8080")
    assert (m.instance_id, m.grpc_address, m.http_address) == ("node-b", "10.0.0.2:9090", "http://10.0.0.2:8080")
    assert parse_static_peer("c=host:1").http_address == ""
    for bad in ("nohost", "x=", "x=host", "x=host:port", "=h:1"):
        with pytest.raises(ValueError, match="static_peers"):
            parse_static_peer(bad)


async def test_single_node_is_itself() -> None:
    disc = create_discovery(ClusterConfig(), SELF)
    assert isinstance(disc, Discovery)
    await disc.start()
    assert disc.members() == [SELF] and disc.healthy
    assert await disc.resolve("synctv") == [SELF]
    assert await disc.resolve("vendor") == []
    await disc.stop()


async def test_static_peers_and_change_callback() -> None:
    cfg = ClusterConfig()
    cfg.discovery.static_peers = ["node-c=10.0.0.3:9090", "node-a=ignored:1", "node-b=10.0.0.2:9090"]
    disc = create_discovery(cfg, SELF)
    seen: list[list[str]] = []
    disc.on_change(lambda ms: seen.append([m.instance_id for m in ms]))
    await disc.start()
    assert [m.instance_id for m in disc.members()] == ["node-a", "node-b", "node-c"]
    assert disc.members()[0] is SELF
    assert seen == [["node-a", "node-b", "node-c"]]


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda c: setattr(c.discovery, "type", "zookeeper"), "cluster.discovery.type"),
        (lambda c: setattr(c.discovery, "static_peers", ["broken"]), "cluster.discovery.static_peers"),
        (lambda c: setattr(c.discovery, "static_peers", ["b=h:1", "b=h:2"]), "cluster.discovery.static_peers"),
        (lambda c: (setattr(c.discovery, "type", "etcd"), setattr(c.discovery.etcd, "endpoints", [])),
         "cluster.discovery.etcd.endpoints"),
        (lambda c: (setattr(c.discovery, "type", "etcd"), setattr(c.discovery.etcd, "endpoints", ["https://h:1"])),
         "cluster.discovery.etcd.endpoints"),
        (lambda c: (setattr(c.discovery, "type", "etcd"), setattr(c.discovery.etcd, "username", "u")),
         "cluster.discovery.etcd.password"),
        (lambda c: (setattr(c.discovery, "type", "consul"), setattr(c.discovery.consul, "address", "")),
         "cluster.discovery.consul.address"),
        (lambda c: (setattr(c.discovery, "type", "consul"), setattr(c.discovery.consul, "scheme", "ftp")),
         "cluster.discovery.consul.scheme"),
        (lambda c: (setattr(c.discovery, "type", "etcd"), setattr(c.discovery, "ttl", "1s")),
         "cluster.discovery.ttl"),
    ],
)
def test_misconfiguration_names_the_key(mutate: object, key: str) -> None:
    cfg = ClusterConfig()
    mutate(cfg)  # type: ignore[operator]
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        create_discovery(cfg, SELF)


def test_self_id_required() -> None:
    with pytest.raises(ValueError, match=r"cluster\.instance_id"):
        create_discovery(ClusterConfig(), Member(instance_id=""))


def test_member_json_roundtrip() -> None:
    m = Member("x", "http://h:1", "h:2", "1.0", 123, {"zone": "a"})
    assert Member.from_json(m.to_json()) == m
    assert hash(m) == hash(Member("x", "http://h:1", "h:2", "1.0", 123, {}))
    assert isinstance(StaticDiscovery(m), Discovery)
