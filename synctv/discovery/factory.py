"""Pick the discovery backend named by `cluster.discovery.type`."""

from __future__ import annotations

from synctv.config import ClusterConfig, parse_duration
from synctv.discovery.base import Discovery, Member


def create_discovery(cluster_cfg: ClusterConfig, self_member: Member) -> Discovery:
    d = cluster_cfg.discovery
    kind = d.type.strip().lower()
    if not self_member.instance_id:
        raise ValueError("cluster.instance_id: required (this instance's id in the cluster)")
    if kind == "static":
        from synctv.discovery.static import StaticDiscovery

        return StaticDiscovery(self_member, d.static_peers)
    ttl = parse_duration(d.ttl, "cluster.discovery.ttl")
    if ttl < 2:
        raise ValueError("cluster.discovery.ttl: must be at least 2s")
    if kind == "etcd":
        from synctv.discovery.etcd import EtcdDiscovery

        if not d.etcd.endpoints:
            raise ValueError("cluster.discovery.etcd.endpoints: at least one endpoint is required")
        if bool(d.etcd.username) != bool(d.etcd.password):
            raise ValueError("cluster.discovery.etcd.password: username and password must be set together")
        return EtcdDiscovery(
            self_member,
            endpoints=d.etcd.endpoints,
            prefix=d.etcd.prefix,
            ttl=ttl,
            username=d.etcd.username or None,
            password=d.etcd.password or None,
        )
    if kind == "consul":
        from synctv.discovery.consul import ConsulDiscovery

        if not d.consul.address:
            raise ValueError("cluster.discovery.consul.address: required for consul discovery")
        if d.consul.scheme not in ("http", "https"):
            raise ValueError(f"cluster.discovery.consul.scheme: must be http or https, got {d.consul.scheme!r}")
        if not d.consul.service_name:
            raise ValueError("cluster.discovery.consul.service_name: required for consul discovery")
        return ConsulDiscovery(
            self_member,
            address=d.consul.address,
            scheme=d.consul.scheme,
            token=d.consul.token or None,
            service_name=d.consul.service_name,
            ttl=ttl,
            grpc_use_tls=bool(cluster_cfg.grpc.tls_cert_path),
            tls_server_name=cluster_cfg.grpc.tls_server_name,
        )
    raise ValueError(f"cluster.discovery.type: must be static, etcd or consul, got {d.type!r}")
