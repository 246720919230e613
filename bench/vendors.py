"""What a vendor movie costs when it is played: `GET /api/room/movie/current` side by side in one run for a plain
movie, an Alist movie served from the resolution cache, an Alist movie resolved every time (the cache dropped
before each request: one `fs/get` plus one per subtitle against the Alist emulation), and the same through a
gRPC vendor backend (an in-process `synctv vendor serve`).

    .venv/bin/python -m bench.vendors [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import summary_ms, table, write_json
from synctv.core.permissions import Role
from synctv.vendors.alist.api import server_id
from synctv.vendors.remote.server import VendorServer, VendorServerConfig
from synctv.vendors.service import vendors
from tests.conftest_vendors import ALIST_PASSWORD, ALIST_USER, write_library
from tests.support.alist_emulator import AlistEmulator
from tests.support.api_client import Api
from tests.support.servers import Server, start_server

SECRET = "bench-vendor-secret-0123456789abcdef"


async def _time(n: int, call: Callable[[], Awaitable[Any]], before: Callable[[], None] = lambda: None
                ) -> list[float]:
    out = []
    for _ in range(n):
        before()
        t0 = time.perf_counter()
        await call()
        out.append(time.perf_counter() - t0)
    return out


async def run(n: int) -> list[dict[str, Any]]:
    root = Path(tempfile.mkdtemp(prefix="bench-vendors-"))
    alist = await AlistEmulator(write_library(root / "alist"), {ALIST_USER: ALIST_PASSWORD}).start()
    vendor_server = VendorServer(VendorServerConfig(listen="127.0.0.1:0", jwt_secret=SECRET, allow_local=True))
    await vendor_server.start()
    runtime, base = await start_server(root / "data")
    rows: list[dict[str, Any]] = []
    try:
        async with aiohttp.ClientSession() as session:
            server = Server(runtime, Api(base, session))
            api = server.api
            await server.store.settings.set_many({"allow_proxy_to_local": True})
            boss = await server.make_user("boss", role=Role.ROOT)
            await api.ok("POST", "/api/admin/vendors/add", token=boss, expect=204, json={
                "usedBy": {"enabled": True, "alist": True, "alistBackendName": "grpc"},
                "backend": {"endpoint": vendor_server.address, "jwtSecret": SECRET}})
            cache = vendors(runtime.services).resolved  # type: ignore[arg-type]
            rooms = {}
            for who, backend in (("local", ""), ("remote", "grpc")):
                token = await api.signup(f"user-{who}")
                await api.ok("POST", "/api/vendor/alist/login", token=token, params={"backend": backend},
                             expect=204, json={"host": alist.base, "username": ALIST_USER,
                                               "password": ALIST_PASSWORD})
                rid = await api.create_room(token, f"bench-{who}")
                mid = (await api.ok("POST", "/api/room/movie/push", token=token, room=rid, json={
                    "name": "clip", "vendorInfo": {"vendor": "alist",
                                                   "alist": {"path": f"{server_id(alist.base)}/movies/clip.mp4"}}}
                ))["id"]
                await api.ok("POST", "/api/room/movie/current", token=token, room=rid, json={"id": mid}, expect=204)
                rooms[who] = (token, rid, mid)
            token = await api.signup("user-plain")
            plain_room = await api.create_room(token, "bench-plain")
            plain = await api.push_movie(token, plain_room, "plain", "https://media.example/a.mp4")
            await api.ok("POST", "/api/room/movie/current", token=token, room=plain_room, json={"id": plain["id"]},
                         expect=204)

            def current(tok: str, rid: str) -> Callable[[], Awaitable[Any]]:
                return lambda: api.ok("GET", "/api/room/movie/current", token=tok, room=rid)

            cases = [("plain movie", current(token, plain_room), lambda: None)]
            for who in ("local", "remote"):
                tok, rid, mid = rooms[who]
                label = "in-process" if who == "local" else "gRPC backend"
                cases.append((f"alist {label}, cached", current(tok, rid), lambda: None))
                cases.append((f"alist {label}, resolved", current(tok, rid),
                              lambda m=mid: cache.forget_movie(m)))  # type: ignore[misc]
            for _label, call, before in cases:
                await _time(max(5, n // 10), call, before)  # warm up
            # Interleaved rounds, so a busy moment of the machine falls on every case alike.
            samples: list[list[float]] = [[] for _ in cases]
            for _ in range(n):
                for i, (_label, call, before) in enumerate(cases):
                    samples[i] += await _time(1, call, before)
            rows = [{"case": label, **summary_ms(samples[i])} for i, (label, _, _) in enumerate(cases)]
    finally:
        await runtime.stop()
        await vendor_server.stop()
        await alist.stop()
    plain_p50 = rows[0]["p50_ms"]
    for row in rows:
        row["x plain"] = row["p50_ms"] / plain_p50
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = asyncio.run(run(60 if args.quick else 300))
    print(table(rows, ["case", "n", "p50_ms", "p95_ms", "p99_ms", "x plain"]))
    write_json("vendors", rows)


if __name__ == "__main__":
    main()
