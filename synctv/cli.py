"""Command line: `synctv serve` and the management commands."""

from __future__ import annotations

import argparse
import sys

from synctv import __version__
from synctv.config import ConfigError, load


def _data_dir_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--data-dir", default=argparse.SUPPRESS, help="directory with config.yaml and data "
                                                                 "(default ~/.synctv)")
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _data_dir_parent()
    parser = argparse.ArgumentParser(prog="synctv", description="SyncTV watch-together server", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", parents=[common], help="start the server")
    serve.add_argument("--listen", help="HTTP listen address (default 0.0.0.0)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8080)")
    serve.add_argument("--web-path", help="serve this directory (a built web client) under /web/")
    sub.add_parser("version", parents=[common], help="print the version")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "version":
        print(f"synctv {__version__} (python {sys.version.split()[0]})")
        return 0
    data_dir = getattr(args, "data_dir", "~/.synctv")
    try:
        cfg = load(data_dir)
    except ConfigError as exc:
        print(f"synctv: invalid configuration: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from synctv.app import serve

        if args.listen:
            cfg.server.http.listen = args.listen
        if args.port is not None:
            if not 0 <= args.port <= 65535:
                print("synctv: --port must be 0..65535", file=sys.stderr)
                return 2
            cfg.server.http.port = args.port
        serve(cfg, web_path=args.web_path)
        return 0
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
