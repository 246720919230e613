"""`synctv cluster status|owner`: ask a running instance's mesh port (with the cluster secret) about the cluster;
`synctv cluster token`: print a short-lived read-only inspection token for other gRPC clients (grpcurl)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import grpc

from synctv.config import Config
from synctv.mesh.auth import MAX_TTL_S, inspection_metadata


def add_cluster_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    cluster = sub.add_parser("cluster", parents=[common], help="inspect a running cluster")
    csub = cluster.add_subparsers(dest="cluster_command", required=True)
    status = csub.add_parser("status", parents=[common], help="members, their health and the rooms each owns")
    owner = csub.add_parser("owner", parents=[common], help="the instance that owns a room")
    owner.add_argument("room_id")
    for p in (status, owner):
        p.add_argument("--address", help="mesh address of any instance (default 127.0.0.1:<cluster.grpc.port>)")
        p.set_defaults(cluster_handler=run)
    token = csub.add_parser(
        "token", parents=[common],
        help="print a read-only inspection token (Describe, Owner, OwnedRooms on any instance; never the "
             "Connect stream), for grpcurl -H 'authorization: Bearer TOKEN'")
    token.add_argument("--ttl", type=float, default=60.0,
                       help=f"lifetime in seconds (at most {int(MAX_TTL_S)}; default 60)")
    token.set_defaults(cluster_handler=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    if not cfg.cluster.secret:
        print("synctv: cluster.secret is not set in this data dir's configuration", file=sys.stderr)
        return 2
    if args.cluster_command == "token":
        if not 1 <= args.ttl <= MAX_TTL_S:
            print(f"synctv: --ttl must be between 1 and {int(MAX_TTL_S)} seconds", file=sys.stderr)
            return 2
        ((_key, value),) = inspection_metadata(cfg.cluster.secret, ttl=args.ttl)
        print(value.removeprefix("Bearer "))
        return 0
    address = args.address or f"127.0.0.1:{cfg.cluster.grpc.port}"
    try:
        return asyncio.run(_run(args, cfg, address))
    except grpc.aio.AioRpcError as exc:
        print(f"synctv: cannot query the cluster at {address}: {exc.code().name}: {exc.details()}",
              file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, cfg: Config, address: str) -> int:
    from synctv._generated import mesh_pb2, mesh_pb2_grpc
    metadata = inspection_metadata(cfg.cluster.secret)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = mesh_pb2_grpc.MeshStub(channel)
        if args.cluster_command == "owner":
            reply = await stub.Owner(mesh_pb2.OwnerRequest(room_id=args.room_id), metadata=metadata, timeout=5)
            print(reply.instance_id)
            return 0
        info = await stub.Describe(mesh_pb2.Empty(), metadata=metadata, timeout=5)
        members = list(info.members) or [info]
    print(f"{'INSTANCE':<16} {'HEALTH':<8} {'GRPC':<22} {'HTTP':<28} ROOMS")
    excluded = []
    for m in members:
        health, rooms = "down", "-"
        try:
            async with grpc.aio.insecure_channel(m.grpc_address) as ch:
                owned = await mesh_pb2_grpc.MeshStub(ch).OwnedRooms(mesh_pb2.Empty(), metadata=metadata, timeout=3)
                health, rooms = "up", f"{len(owned.room_ids)} {' '.join(owned.room_ids)}".strip()
        except grpc.aio.AioRpcError:
            pass
        if m.excluded:
            # In discovery but not in the ring: it failed mesh authentication (or has not finished it yet).
            health = "excluded"
            excluded.append(f"{m.instance_id}: {m.excluded}")
        print(f"{m.instance_id:<16} {health:<8} {m.grpc_address:<22} {m.http_address:<28} {rooms}")
    for line in excluded:
        print(f"excluded {line}")
    return 0
