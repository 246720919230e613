"""JWT authentication of the mesh over real gRPC on loopback."""

from __future__ import annotations

import asyncio
import time

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from synctv._generated import mesh_pb2 as pb
from synctv._generated import mesh_pb2_grpc as pb_grpc
from synctv.discovery import Member
from synctv.mesh import MeshError
from synctv.mesh.auth import Caller, TokenSigner, audience_of, inspection_metadata, verify_token
from tests.support.mesh import CLUSTER_SECRET, MeshFactory, command, echoed, member_of

pytestmark = pytest.mark.timeout(30)

WRONG_SECRET = "another-secret-of-the-right-length-xyz"


async def _open_stream(port: int, metadata: tuple[tuple[str, str], ...]) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = pb_grpc.MeshStub(channel).Connect(metadata=metadata)
        await call.initial_metadata()
        if not call.done():
            await call.write(pb.Frame(envelopes=[pb.Envelope(hello=pb.Hello(instance_id="intruder"))]))
        code: grpc.StatusCode = await call.code()
        return code


def test_token_roundtrip_and_claims() -> None:
    signer = TokenSigner("node-a", CLUSTER_SECRET, ttl=60)
    token = signer.token(audience_of("node-b"))
    assert verify_token(token, CLUSTER_SECRET, "node-b") == Caller("node-a", "peer")
    claims = jwt.decode(token, CLUSTER_SECRET, algorithms=["HS256"], audience=audience_of("node-b"))
    assert claims["iss"] == "node-a" and claims["exp"] - claims["iat"] == 60 and claims["scope"] == "peer"
    assert signer.token(audience_of("node-b")) == token  # cached until half-life
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(token, WRONG_SECRET, "node-b")
    with pytest.raises(jwt.InvalidTokenError):  # a token for one instance opens nothing on another
        verify_token(token, CLUSTER_SECRET, "node-c")
    now = int(time.time())
    for bad in (
        {"iss": "x", "aud": audience_of("node-b"), "scope": "peer", "iat": now - 120, "exp": now - 60},  # expired
        {"iss": "x", "aud": "other", "scope": "peer", "iat": now, "exp": now + 60},  # wrong audience
        {"iss": "x", "aud": audience_of("node-b"), "scope": "peer", "iat": now, "exp": now + 3600},  # too long
        {"iss": "x", "aud": audience_of("node-b"), "scope": "peer", "exp": now + 60},  # no iat
        {"iss": "x", "aud": audience_of("node-b"), "scope": "inspect", "iat": now, "exp": now + 60},  # scope/aud
        {"iss": "x", "aud": audience_of("node-b"), "scope": "peer", "iat": now + 600, "exp": now + 660},  # future
    ):
        with pytest.raises(jwt.InvalidTokenError):
            verify_token(jwt.encode(bad, CLUSTER_SECRET, algorithm="HS256"), CLUSTER_SECRET, "node-b")


async def test_stream_without_or_with_bad_token_is_unauthenticated(mesh_factory: MeshFactory) -> None:
    node, handler = await mesh_factory("a")
    assert await _open_stream(node.bound_port, ()) == grpc.StatusCode.UNAUTHENTICATED
    bad = TokenSigner("intruder", WRONG_SECRET).metadata("a")
    for _ in range(20):
        assert await _open_stream(node.bound_port, bad) == grpc.StatusCode.UNAUTHENTICATED
    assert node.stats.unauthenticated == 21
    assert handler.commands == []


async def test_unary_inspection_needs_token(mesh_factory: MeshFactory) -> None:
    node, _ = await mesh_factory("a")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{node.bound_port}") as channel:
        stub = pb_grpc.MeshStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Describe(pb.Empty())
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        good = inspection_metadata(CLUSTER_SECRET)
        desc = await stub.Describe(pb.Empty(), metadata=good)
        assert desc.instance_id == "a" and desc.grpc_address == f"127.0.0.1:{node.bound_port}"
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Owner(pb.OwnerRequest(room_id="r"), metadata=good)
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED  # no inspector supplied


async def test_peer_with_wrong_secret_cannot_send(mesh_factory: MeshFactory) -> None:

    a, _ = await mesh_factory("a")
    intruder, _ = await mesh_factory("x", secret=WRONG_SECRET)
    intruder.set_members([Member("a", grpc_address=f"127.0.0.1:{a.bound_port}")])
    with pytest.raises(TimeoutError):
        await intruder.command("a", command("r", "op", b""), timeout=0.5)
    assert a.stats.unauthenticated >= 1
    assert a.stats.received == {}


async def test_health_and_reflection_without_token(mesh_factory: MeshFactory) -> None:
    node, _ = await mesh_factory("a")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{node.bound_port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        resp = await health.Check(health_pb2.HealthCheckRequest(service=""))
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        resp = await health.Check(health_pb2.HealthCheckRequest(service="synctv.mesh.v1.Mesh"))
        assert resp.status == health_pb2.HealthCheckResponse.SERVING

        node.set_serving(False)
        for _ in range(50):
            resp = await health.Check(health_pb2.HealthCheckRequest(service=""))
            if resp.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                break
        assert resp.status == health_pb2.HealthCheckResponse.NOT_SERVING

        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = refl.ServerReflectionInfo()
        await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        answer = await call.read()
        await call.done_writing()
        names = {s.name for s in answer.list_services_response.service}
        assert {"synctv.mesh.v1.Mesh", "grpc.health.v1.Health"} <= names
    assert node.stats.unauthenticated == 0


async def test_a_valid_token_from_a_non_member_opens_no_stream(mesh_factory: MeshFactory) -> None:
    """The cluster secret alone is not membership: a caller discovery does not list is refused, and the
    instance never dials the address that caller names in its hello."""
    a, ha = await mesh_factory("a")
    x, _ = await mesh_factory("x")
    x.set_members([member_of(a), member_of(x)])  # x knows a; a's discovery view does not list x
    a.set_members([member_of(a)])
    token = TokenSigner("x", CLUSTER_SECRET).metadata("a")
    # Authenticated but not authorized: PERMISSION_DENIED, which the dialer does not take for a bad secret.
    assert await _open_stream(a.bound_port, token) == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises((TimeoutError, MeshError)):
        await x.command("a", command("r", "op", b""), timeout=0.5)
    assert ha.commands == [] and a.stats.unauthenticated >= 2
    assert a.address_of("x") == "" and not a.is_connected("x")


async def test_inspection_tokens_read_but_never_open_the_stream(mesh_factory: MeshFactory) -> None:
    a, _ = await mesh_factory("a")
    a.set_members([member_of(a)])
    inspect = inspection_metadata(CLUSTER_SECRET)
    assert await _open_stream(a.bound_port, inspect) == grpc.StatusCode.PERMISSION_DENIED
    async with grpc.aio.insecure_channel(f"127.0.0.1:{a.bound_port}") as channel:
        info = await pb_grpc.MeshStub(channel).Describe(pb.Empty(), metadata=inspect, timeout=5)
    assert info.instance_id == "a"


async def test_an_impersonating_stream_does_not_cut_the_real_peer(mesh_factory: MeshFactory) -> None:
    """A short stream opened under a member's id (by anyone holding the secret) neither replaces nor ends
    the member's real stream: the two instances keep talking and nobody is reported down."""
    a, ha = await mesh_factory("a")
    b, hb = await mesh_factory("b")
    for n in (a, b):
        n.set_members([member_of(a), member_of(b)])
    assert echoed(await b.command("a", command("r", "op1", b"1"), timeout=5)) == b"ok:a:1"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{a.bound_port}") as channel:
        call = pb_grpc.MeshStub(channel).Connect(metadata=TokenSigner("b", CLUSTER_SECRET).metadata("a"))
        await call.write(pb.Frame(envelopes=[pb.Envelope(hello=pb.Hello(instance_id="b", protocol_major=2))]))
        await call.read()  # a's hello: the impostor is in
        await asyncio.sleep(1.0)
        call.cancel()
    await asyncio.sleep(0.3)
    assert echoed(await b.command("a", command("r", "op2", b"2"), timeout=5)) == b"ok:a:2"
    assert echoed(await a.command("b", command("r", "op3", b"3"), timeout=5)) == b"ok:b:3"
    assert ha.peer_downs == [] and hb.peer_downs == []
