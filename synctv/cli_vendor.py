"""`synctv vendor serve`: the standalone vendor gRPC server (Alist, Emby). It needs no data dir: flags, or the
environment variables upstream's vendor server reads (GRPC_ADDR, SERVER_JWT_SECRET, SERVICE_NAME, ETCD_ENDPOINT,
CONSUL_ADDR, ...)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from synctv import __version__


def add_vendor_commands(sub: Any) -> None:
    vendor = sub.add_parser("vendor", help="run a vendor gRPC server (Alist, Emby) for SyncTV instances")
    vsub = vendor.add_subparsers(dest="vendor_command", required=True)
    serve = vsub.add_parser("serve", help="serve the Alist and Emby vendor services over gRPC")
    env = os.environ.get
    serve.add_argument("--listen", default=env("GRPC_ADDR", "0.0.0.0:9000"), help="gRPC listen address")
    serve.add_argument("--advertise", default=env("VENDOR_ADVERTISE", ""),
                       help="address registered in etcd/Consul (default: the listen address)")
    serve.add_argument("--jwt-secret", default=env("SERVER_JWT_SECRET", ""),
                       help="HS256 secret callers must sign their bearer tokens with (empty: no authentication)")
    serve.add_argument("--service-name", default=env("SERVICE_NAME", "synctv-vendors"))
    serve.add_argument("--instance-id", default=env("VENDOR_INSTANCE_ID", ""))
    serve.add_argument("--etcd", default=env("ETCD_ENDPOINT", ""), help="register in this etcd (host:port)")
    serve.add_argument("--consul", default=env("CONSUL_ADDR", ""), help="register in this Consul agent")
    serve.add_argument("--consul-token", default=env("CONSUL_TOKEN", ""))
    serve.add_argument("--ttl", type=float, default=float(env("VENDOR_TTL", "5")),
                       help="registration TTL in seconds")
    serve.add_argument("--allow-local", action="store_true", default=env("VENDOR_ALLOW_LOCAL", "") == "1",
                       help="let users' vendor hosts be private addresses (the SSRF guard is on otherwise)")
    serve.add_argument("--timeout", type=float, default=10.0, help="seconds per call to a vendor's API")
    serve.add_argument("--tls-cert", default=env("VENDOR_TLS_CERT", ""))
    serve.add_argument("--tls-key", default=env("VENDOR_TLS_KEY", ""))


def run(args: argparse.Namespace) -> int:
    from synctv.logs import setup
    from synctv.vendors.remote.server import VendorServerConfig, serve_forever

    if args.etcd and args.consul:
        print("synctv: register in etcd or Consul, not both", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("synctv: TLS needs both --tls-cert and --tls-key", file=sys.stderr)
        return 2
    cfg = VendorServerConfig(
        listen=args.listen, advertise=args.advertise, jwt_secret=args.jwt_secret, service_name=args.service_name,
        instance_id=args.instance_id, etcd_endpoints=tuple(e for e in args.etcd.split(",") if e),
        consul_address=args.consul, consul_token=args.consul_token, ttl=args.ttl, allow_local=args.allow_local,
        timeout=args.timeout, tls_cert=Path(args.tls_cert).read_bytes() if args.tls_cert else None,
        tls_key=Path(args.tls_key).read_bytes() if args.tls_key else None)
    setup("info", "text", cfg.instance_id or "vendor", None)
    try:
        asyncio.run(serve_forever(cfg, __version__))
    except (OSError, ConnectionError) as exc:
        print(f"synctv: cannot start the vendor server: {exc}", file=sys.stderr)
        return 1
    return 0
