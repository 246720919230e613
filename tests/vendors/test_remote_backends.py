"""gRPC vendor backends end to end: `synctv vendor serve` processes registered in a real etcd (go-kratos records)
or in the Consul emulation, a real SyncTV server using them through an admin-configured backend, the Alist
emulation behind them; failover on SIGKILL, a server expecting another JWT secret, the admin API."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aetcd
import aiohttp
import pytest

from synctv.core.permissions import Role
from synctv.vendors.alist.api import server_id
from synctv.vendors.service import vendors
from tests.conftest_vendors import ALIST_PASSWORD, ALIST_USER, LIBRARY
from tests.support.alist_emulator import AlistEmulator
from tests.support.api_client import Api
from tests.support.asserts import assert_error
from tests.support.servers import Server, start_server
from tests.support.vendor_servers import VendorProcess

SECRET = "vendor-secret-for-tests-0123456789"
SERVICE = "synctv-vendors-test"


@pytest.fixture
async def synctv(tmp_path: Path) -> AsyncIterator[Server]:
    runtime, base = await start_server(tmp_path / "data")
    async with aiohttp.ClientSession() as session:
        server = Server(runtime, Api(base, session))
        await server.store.settings.set_many({"allow_proxy_to_local": True})
        yield server
    await runtime.stop()


def record(endpoint: str, **backend: Any) -> dict[str, Any]:
    return {"usedBy": {"enabled": True, "alist": True, "alistBackendName": "remote", "emby": True,
                       "embyBackendName": "remote"},
            "backend": {"endpoint": endpoint, "jwtSecret": SECRET, "timeOut": "3s", **backend}}


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s (last: {last})")


async def admin_list(server: Server, root: str) -> list[dict[str, Any]]:
    data = await server.api.ok("GET", "/api/admin/vendors", token=root)
    entries: list[dict[str, Any]] = data["list"]
    return entries


async def root_token(server: Server) -> str:
    return await server.make_user("boss", role=Role.ROOT)


async def test_admin_api_authorization_and_bad_input(synctv: Server) -> None:
    api = synctv.api
    alice = await api.signup("alice")
    root = await root_token(synctv)
    for method, path in (("GET", "/api/admin/vendors"), ("POST", "/api/admin/vendors/add"),
                         ("POST", "/api/admin/vendors/update"), ("POST", "/api/admin/vendors/delete"),
                         ("POST", "/api/admin/vendors/reconnect"), ("POST", "/api/admin/vendors/enable"),
                         ("POST", "/api/admin/vendors/disable")):
        status, body = await api.call(method, path, json={"endpoints": ["x:1"]})
        assert_error(status, body, 401)
        status, body = await api.call(method, path, token=alice, json={"endpoints": ["x:1"]})
        assert_error(status, body, 403)
    good = record("127.0.0.1:1")
    for bad in ({}, [], {"backend": {"endpoint": ""}, "usedBy": good["usedBy"]},
                {**good, "backend": {**good["backend"], "endpoint": "a/b:1"}},
                {**good, "backend": {**good["backend"], "endpoint": "host:99999"}},
                {**good, "backend": {**good["backend"], "timeOut": "soon"}},
                {**good, "backend": {**good["backend"], "timeOut": "10m"}},
                {**good, "backend": {**good["backend"], "tls": "yes"}},
                {**good, "backend": {**good["backend"], "etcd": {"serviceName": "a"},
                                     "consul": {"serviceName": "b"}}},
                {**good, "usedBy": {"enabled": True}}):
        status, body = await api.call("POST", "/api/admin/vendors/add", token=root, json=bad)
        assert_error(status, body, 400)
    await api.ok("POST", "/api/admin/vendors/add", token=root, json=good, expect=204)
    status, body = await api.call("POST", "/api/admin/vendors/add", token=root, json=good)
    assert_error(status, body, 400)  # the endpoint is taken
    status, body = await api.call("POST", "/api/admin/vendors/add", token=root, json=record("127.0.0.1:2"))
    assert_error(status, body, 400)  # the alist name "remote" is taken among enabled backends
    (entry,) = await admin_list(synctv, root)
    assert entry["info"]["backend"]["endpoint"] == "127.0.0.1:1"
    assert entry["info"]["backend"]["jwtSecret"] == ""  # never shown
    assert entry["info"]["usedBy"]["alistBackendName"] == "remote" and entry["info"]["createdAt"] > 0
    assert 0 <= entry["status"] <= 4
    # an update that leaves the secret empty keeps it
    await api.ok("POST", "/api/admin/vendors/update", token=root, expect=204,
                 json={**good, "backend": {**good["backend"], "jwtSecret": "", "comment": "renamed"}})
    live = vendors(synctv.runtime.services).backends.live["127.0.0.1:1"]  # type: ignore[arg-type]
    assert live.pool.jwt_secret == SECRET and live.record["backend"]["comment"] == "renamed"
    status, body = await api.call("POST", "/api/admin/vendors/update", token=root, json=record("127.0.0.1:9"))
    assert_error(status, body, 404)
    for op in ("delete", "enable", "disable", "reconnect"):
        for bad in ({}, {"endpoints": []}, {"endpoints": [3]}, {"endpoints": "x"}):
            status, body = await api.call("POST", f"/api/admin/vendors/{op}", token=root, json=bad)
            assert_error(status, body, 400)
        status, body = await api.call("POST", f"/api/admin/vendors/{op}", token=root, json={"endpoints": ["n:1"]})
        assert_error(status, body, 404)
    assert await api.ok("GET", "/api/vendor/backends/alist", token=alice) == ["remote"]
    await api.ok("POST", "/api/admin/vendors/disable", token=root, json={"endpoints": ["127.0.0.1:1"]}, expect=204)
    assert await api.ok("GET", "/api/vendor/backends/alist", token=alice) == []
    await api.ok("POST", "/api/admin/vendors/enable", token=root, json={"endpoints": ["127.0.0.1:1"]}, expect=204)
    assert await api.ok("GET", "/api/vendor/backends/emby", token=alice) == ["remote"]
    # nothing listens there: a clear 503 for a user of that backend, within the timeout
    started = time.monotonic()
    status, body = await api.call("POST", "/api/vendor/alist/login", token=alice, params={"backend": "remote"},
                                  json={"host": "http://127.0.0.1:1", "username": "a", "password": "b"})
    assert_error(status, body, 503)
    assert time.monotonic() - started < 8
    await api.ok("POST", "/api/admin/vendors/delete", token=root, json={"endpoints": ["127.0.0.1:1"]}, expect=204)
    assert await admin_list(synctv, root) == []


async def kratos_records(endpoint: str) -> list[dict[str, Any]]:
    host, port = endpoint.split(":")
    async with aetcd.Client(host=host, port=int(port)) as client:
        result = await client.get_prefix(f"/microservices/{SERVICE}/".encode())
        return [json.loads(kv.value) for kv in result]


@pytest.mark.slow
async def test_two_vendor_servers_in_etcd_failover_and_wrong_secret(tmp_path: Path, synctv: Server,
                                                                    etcd_server: Any, alist: AlistEmulator) -> None:
    api = synctv.api
    one = VendorProcess(tmp_path, "vendor-1", jwt_secret=SECRET, service_name=SERVICE, etcd=etcd_server.endpoint)
    two = VendorProcess(tmp_path, "vendor-2", jwt_secret=SECRET, service_name=SERVICE, etcd=etcd_server.endpoint)
    wrong: VendorProcess | None = None
    try:
        await asyncio.to_thread(one.wait_ready)
        await asyncio.to_thread(two.wait_ready)
        # go-kratos' registry format, so upstream SyncTV finds these servers too
        records = await eventually(lambda: _two(kratos_records(etcd_server.endpoint)))
        assert {r["id"] for r in records} == {"vendor-1", "vendor-2"}
        assert {r["endpoints"][0] for r in records} == {f"grpc://{one.address}", f"grpc://{two.address}"}
        assert all(r["name"] == SERVICE for r in records)
        root = await root_token(synctv)
        await api.ok("POST", "/api/admin/vendors/add", token=root, expect=204,
                     json=record(etcd_server.endpoint, etcd={"serviceName": SERVICE}))

        async def both_ready() -> bool:
            (entry,) = await admin_list(synctv, root)
            states = {e["address"]: e["status"] for e in entry["endpoints"]}
            return entry["status"] == 2 and states == {one.address: 2, two.address: 2}

        await eventually(both_ready)
        alice = await api.signup("alice")
        await api.ok("POST", "/api/vendor/alist/login", token=alice, params={"backend": "remote"}, expect=204,
                     json={"host": alist.base, "username": ALIST_USER, "password": ALIST_PASSWORD})
        sid = server_id(alist.base)
        pool = vendors(synctv.runtime.services).backends.pool_for("alist", "remote")  # type: ignore[arg-type]
        assert pool is not None
        for _ in range(6):
            listing = await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/movies"})
            assert listing["total"] == 6
        assert all(e.calls >= 2 for e in pool.endpoints.values())  # round robin over both
        # a movie through the remote backend, played through the proxy (subtitles from the sibling listing)
        rid = await api.create_room(alice, "remote-room")
        mid = (await api.ok("POST", "/api/room/movie/push", token=alice, room=rid, json={
            "name": "clip", "proxy": True,
            "vendorInfo": {"vendor": "alist", "alist": {"path": f"{sid}/movies/clip.mp4"}}}))["id"]
        await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
        base = (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["movie"]["base"]
        assert set(base["subtitles"]) == {"clip.srt", "clip.en.vtt"}
        async with api.session.get(api.base + base["url"]) as resp:
            assert resp.status == 200 and await resp.read() == LIBRARY["movies/clip.mp4"]
        # SIGKILL one server mid-use: no user-visible error, at most one retried call
        one.kill()
        retries = pool.retries
        for _ in range(6):
            listing = await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/movies"})
            assert listing["total"] == 6
        assert pool.retries - retries <= 1
        # its record expires with its lease; the endpoint leaves the pool
        await eventually(lambda: _only(kratos_records(etcd_server.endpoint), "vendor-2"), timeout=15)
        await eventually(lambda: _endpoints(synctv, root, {two.address}), timeout=5)
        # a server expecting another JWT secret joins: UNAUTHENTICATED, unhealthy, no traffic
        wrong = VendorProcess(tmp_path, "vendor-3", jwt_secret="another-secret-entirely-xxxxxxxxx",
                              service_name=SERVICE, etcd=etcd_server.endpoint)
        await asyncio.to_thread(wrong.wait_ready)

        async def wrong_unhealthy() -> bool:
            (entry,) = await admin_list(synctv, root)
            states = {e["address"]: (e["status"], e["error"]) for e in entry["endpoints"]}
            return (wrong is not None and wrong.address in states and states[wrong.address][0] == 3
                    and "UNAUTHENTICATED" in states[wrong.address][1] and states[two.address][0] == 2)

        await eventually(wrong_unhealthy)
        async with api.session.get(api.base + "/metrics") as resp:
            text = await resp.text()
        assert (f'synctv_vendor_endpoint_state{{address="{wrong.address}",backend="{etcd_server.endpoint}"}} 3.0'
                in text), text
        assert f'synctv_vendor_backend_state{{endpoint="{etcd_server.endpoint}"}} 2.0' in text
        before = pool.endpoints[wrong.address].calls
        for _ in range(6):
            await api.ok("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{sid}/movies"})
        assert pool.endpoints[wrong.address].calls == before
    finally:
        for proc in (one, two, wrong):
            if proc is not None:
                proc.stop()


async def _two(records: Any) -> Any:
    got = await records
    return got if len(got) == 2 else None


async def _only(records: Any, name: str) -> bool:
    return [r["id"] for r in await records] == [name]


async def _endpoints(server: Server, root: str, wanted: set[str]) -> bool:
    (entry,) = await admin_list(server, root)
    return {e["address"] for e in entry["endpoints"]} == wanted


@pytest.mark.slow
async def test_vendor_servers_in_consul(tmp_path: Path, synctv: Server, consul_emulator: Any,
                                        alist: AlistEmulator) -> None:
    """The same membership through Consul: two servers, SIGKILL one (its TTL check lapses), stop the other
    (deregistered at once)."""
    api = synctv.api
    one = VendorProcess(tmp_path, "vendor-c1", jwt_secret=SECRET, service_name=SERVICE,
                        consul=consul_emulator.address)
    two = VendorProcess(tmp_path, "vendor-c2", jwt_secret=SECRET, service_name=SERVICE,
                        consul=consul_emulator.address)
    try:
        await asyncio.to_thread(one.wait_ready)
        await asyncio.to_thread(two.wait_ready)
        root = await root_token(synctv)
        await api.ok("POST", "/api/admin/vendors/add", token=root, expect=204,
                     json=record(consul_emulator.address, consul={"serviceName": SERVICE}))
        await eventually(lambda: _endpoints(synctv, root, {one.address, two.address}))
        alice = await api.signup("alice")
        await api.ok("POST", "/api/vendor/alist/login", token=alice, params={"backend": "remote"}, expect=204,
                     json={"host": alist.base, "username": ALIST_USER, "password": ALIST_PASSWORD})
        sid = server_id(alist.base)
        pool = vendors(synctv.runtime.services).backends.pool_for("alist", "remote")  # type: ignore[arg-type]
        assert pool is not None
        for _ in range(4):
            me = await api.ok("GET", "/api/vendor/alist/me", token=alice, params={"serverID": sid})
            assert me["info"]["username"] == ALIST_USER
        assert all(e.calls >= 1 for e in pool.endpoints.values())
        one.kill()
        retries = pool.retries
        for _ in range(6):
            await api.ok("GET", "/api/vendor/alist/me", token=alice, params={"serverID": sid})
        assert pool.retries - retries <= 1
        await eventually(lambda: _endpoints(synctv, root, {two.address}), timeout=15)
        # stopping deregisters: the endpoint leaves at once, and users get a clear 503
        two.stop()
        await eventually(lambda: _endpoints(synctv, root, set()), timeout=5)
        status, body = await api.call("GET", "/api/vendor/alist/me", token=alice, params={"serverID": sid})
        assert_error(status, body, 503)
    finally:
        one.stop()
        two.stop()


@pytest.mark.slow
async def test_three_instances_share_backends_and_bindings(tmp_path: Path, pg_server: Any, etcd_server: Any,
                                                           alist: AlistEmulator) -> None:
    """A backend added through instance 1 is used by instance 3 at once; alice binds Alist on instance 1, bob
    plays her file on instance 3 through the proxy; vendor servers found through a real etcd."""
    from synctv.app import Runtime
    from synctv.vendors.secrets import new_key
    from tests.support.etcd_server import free_port
    from tests.support.servers import make_config

    dsn = pg_server.create_database("vb_" + uuid.uuid4().hex[:10])
    ids = ("n1", "n2", "n3")
    ports = {i: free_port() for i in ids}
    key = new_key()
    runtimes: list[Runtime] = []
    vendor = VendorProcess(tmp_path, "vendor-x", jwt_secret=SECRET, service_name=SERVICE, etcd=etcd_server.endpoint)
    try:
        for iid in ids:
            peers = ",".join(f"{o}=127.0.0.1:{ports[o]}" for o in ids if o != iid)
            cfg = make_config(tmp_path / iid, dsn, SYNCTV_CLUSTER_ENABLED="true", SYNCTV_CLUSTER_INSTANCE_ID=iid,
                              SYNCTV_CLUSTER_SECRET="cluster-secret-for-vendor-tests-0123456789",
                              SYNCTV_CLUSTER_GRPC_LISTEN="127.0.0.1", SYNCTV_CLUSTER_GRPC_PORT=str(ports[iid]),
                              SYNCTV_CLUSTER_ADVERTISE_ADDRESS="127.0.0.1",
                              SYNCTV_JWT_SECRET="vendor-cluster-jwt-secret-0123456789",
                              SYNCTV_VENDORS_SECRET_KEY=key, SYNCTV_CLUSTER_DISCOVERY_STATIC_PEERS=peers)
            runtime = Runtime(cfg)
            await runtime.start()
            runtimes.append(runtime)
        await asyncio.to_thread(vendor.wait_ready)

        def formed() -> bool:  # every instance sees the others, all mutually authenticated on the mesh
            routers = [r.services.router for r in runtimes]  # type: ignore[union-attr]
            return all(len(rt.discovered) == len(ids) and not rt.excluded_peers() for rt in routers)

        deadline = time.monotonic() + 30
        while not formed():
            assert time.monotonic() < deadline, "the cluster did not form"
            await asyncio.sleep(0.1)
        async with aiohttp.ClientSession() as session:
            api1, api3 = (Api(f"http://127.0.0.1:{r.port}", session) for r in (runtimes[0], runtimes[2]))
            one = Server(runtimes[0], api1)
            await one.store.settings.set_many({"allow_proxy_to_local": True})
            await runtimes[0].services.invalidate("settings")  # type: ignore[union-attr]
            root = await one.make_user("boss", role=Role.ROOT)
            alice, bob = await api1.signup("alice"), await api3.signup("bob")
            assert await api3.ok("GET", "/api/vendor/backends/alist", token=bob) == []
            await api1.ok("POST", "/api/admin/vendors/add", token=root, expect=204,
                          json=record(etcd_server.endpoint, etcd={"serviceName": SERVICE}))
            started = time.monotonic()
            assert await api3.ok("GET", "/api/vendor/backends/alist", token=bob) == ["remote"]
            assert time.monotonic() - started < 1.0
            await api1.ok("POST", "/api/vendor/alist/login", token=alice, params={"backend": "remote"},
                          expect=204, json={"host": alist.base, "username": ALIST_USER, "password": ALIST_PASSWORD})
            sid = server_id(alist.base)
            rid = await api1.create_room(alice, "cluster-room")
            mid = (await api1.ok("POST", "/api/room/movie/push", token=alice, room=rid, json={
                "name": "clip", "proxy": True,
                "vendorInfo": {"vendor": "alist", "alist": {"path": f"{sid}/movies/clip.mp4"}}}))["id"]
            await api1.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
            await api3.ok("POST", "/api/room/login", token=bob, json={"roomId": rid, "password": ""})
            base = (await api3.ok("GET", "/api/room/movie/current", token=bob, room=rid))["movie"]["base"]
            assert base["url"].startswith(f"/api/room/movie/proxy/{mid}?")
            async with session.get(api3.base + base["url"], headers={"Range": "bytes=0-9"}) as resp:
                body = await resp.read()
                assert resp.status == 206 and body == LIBRARY["movies/clip.mp4"][:10], body
            # disabled through instance 3: gone on instance 1 as well
            await api3.ok("POST", "/api/admin/vendors/disable", token=await Server(runtimes[2], api3).api.login(
                "boss", "password1"), json={"endpoints": [etcd_server.endpoint]}, expect=204)
            assert await api1.ok("GET", "/api/vendor/backends/alist", token=alice) == []
    finally:
        vendor.stop()
        for runtime in runtimes:
            await runtime.stop()


async def test_emby_and_alist_through_an_in_process_vendor_server(synctv: Server, emby: Any,
                                                                  alist: AlistEmulator) -> None:
    """Every RPC the SyncTV side uses, over a direct-endpoint backend, against both emulations."""
    from synctv.vendors.remote.server import VendorServer, VendorServerConfig
    from tests.conftest_vendors import EMBY_MEDIA, EMBY_PASSWORD, EMBY_USER

    server = VendorServer(VendorServerConfig(listen="127.0.0.1:0", jwt_secret=SECRET, allow_local=True))
    await server.start()
    try:
        api = synctv.api
        root = await root_token(synctv)
        await api.ok("POST", "/api/admin/vendors/add", token=root, expect=204, json=record(server.address))
        alice = await api.signup("alice")
        # emby: login, list, me, a movie's sources and subtitles, logout
        await api.ok("POST", "/api/vendor/emby/login", token=alice, params={"backend": "remote"}, expect=204,
                     json={"host": emby.base, "username": EMBY_USER, "password": EMBY_PASSWORD})
        status, body = await api.call("POST", "/api/vendor/emby/login", token=alice, params={"backend": "remote"},
                                      json={"host": emby.base, "username": EMBY_USER, "password": "nope"})
        assert_error(status, body, 400)
        sid = emby.server_id
        views = await api.ok("POST", "/api/vendor/emby/list", token=alice, json={"path": f"{sid}/"})
        assert [i["name"] for i in views["items"]] == ["Movies", "Shows"]
        movies = await api.ok("POST", "/api/vendor/emby/list", token=alice,
                              json={"path": f"{sid}/{emby.item_id('movies')}"})
        assert [i["name"] for i in movies["items"]] == ["Clip", "Other"]
        assert movies["paths"][-1]["name"] == "Movies"
        me = await api.ok("GET", "/api/vendor/emby/me", token=alice, params={"serverID": sid})
        assert me["info"]["serverName"] == "living-room"
        rid = await api.create_room(alice, "remote-emby")
        mid = (await api.ok("POST", "/api/room/movie/push", token=alice, room=rid, json={
            "name": "clip", "vendorInfo": {"vendor": "emby", "emby": {"path": f"{sid}/{emby.item_id('clip')}"}}}
        ))["id"]
        await api.ok("POST", "/api/room/movie/current", token=alice, room=rid, json={"id": mid}, expect=204)
        base = (await api.ok("GET", "/api/room/movie/current", token=alice, room=rid))["movie"]["base"]
        assert set(base["subtitles"]) == {"English (SRT)", "French"}
        async with api.session.get(base["url"]) as resp:
            assert await resp.read() == EMBY_MEDIA
        await api.ok("POST", "/api/vendor/emby/logout", token=alice, json={"serverId": sid}, expect=204)
        assert len(emby.logged_out) == 1
        # alist: search and a missing path keep their meaning across the wire
        await api.ok("POST", "/api/vendor/alist/login", token=alice, params={"backend": "remote"}, expect=204,
                     json={"host": alist.base, "username": ALIST_USER, "password": ALIST_PASSWORD})
        asid = server_id(alist.base)
        found = await api.ok("POST", "/api/vendor/alist/list", token=alice,
                             json={"path": f"{asid}/movies", "keyword": "s01"})
        assert [i["name"] for i in found["items"]] == ["s01e01.mp4"]
        status, body = await api.call("POST", "/api/vendor/alist/list", token=alice, json={"path": f"{asid}/nope"})
        assert_error(status, body, 404)
        alist.expire_tokens()  # the vendor token dies: one login again, through the backend
        logins = alist.logins
        await api.ok("GET", "/api/vendor/alist/me", token=alice, params={"serverID": asid})
        assert alist.logins == logins + 1
        assert server.auth.rejected == 0
    finally:
        await server.stop()


async def test_vendor_failures_behind_a_backend_answer_clearly_within_the_timeout(synctv: Server,
                                                                                   alist: AlistEmulator) -> None:
    """Through a backend, each vendor failure is the same clear status as in-process: unreachable host 502, a host
    the vendor server's SSRF guard refuses 400, bad credentials 400, a slow vendor 504 within the backend's
    timeout (3s), never a hang or a 500."""
    from synctv.vendors.remote.server import VendorServer, VendorServerConfig
    from tests.api.test_vendor_alist import socket_closed

    open_server = VendorServer(VendorServerConfig(listen="127.0.0.1:0", jwt_secret=SECRET, allow_local=True))
    guarded = VendorServer(VendorServerConfig(listen="127.0.0.1:0", jwt_secret=SECRET, allow_local=False))
    await open_server.start()
    await guarded.start()
    try:
        api = synctv.api
        root = await root_token(synctv)
        await api.ok("POST", "/api/admin/vendors/add", token=root, expect=204, json=record(open_server.address))
        guarded_record = record(guarded.address)
        guarded_record["usedBy"].update(alistBackendName="guarded", embyBackendName="guarded")
        await api.ok("POST", "/api/admin/vendors/add", token=root, expect=204, json=guarded_record)
        alice = await api.signup("alice")
        creds = {"username": ALIST_USER, "password": ALIST_PASSWORD}

        async def login(host: str, backend: str = "remote", **body: str) -> tuple[int, Any, float]:
            started = time.monotonic()
            status, answer = await api.call("POST", "/api/vendor/alist/login", token=alice,
                                            params={"backend": backend}, json={"host": host, **creds, **body})
            return status, answer, time.monotonic() - started

        with socket_closed() as port:
            status, body, _ = await login(f"http://127.0.0.1:{port}")
        assert_error(status, body, 502)
        status, body, _ = await login("http://no-such-host.invalid")
        assert_error(status, body, 502)
        status, body, _ = await login(alist.base, "guarded")
        assert_error(status, body, 400)
        assert "loopback" in body["error"] or "refused" in body["error"]
        status, body, _ = await login(alist.base, password="wrong")
        assert_error(status, body, 400)
        alist.html_only = True
        status, body, _ = await login(alist.base)
        assert_error(status, body, 502)
        alist.html_only = False
        alist.delay = 6
        status, body, took = await login(alist.base)
        assert_error(status, body, 504)
        assert took < 5.5
        alist.delay = 0
        assert await api.ok("GET", "/api/vendor/alist/binds", token=alice) == []
    finally:
        await open_server.stop()
        await guarded.stop()
