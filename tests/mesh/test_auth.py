"""JWT authentication of the mesh over real gRPC on loopback."""

from __future__ import annotations

import time

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from synctv._generated import mesh_pb2 as pb
from synctv._generated import mesh_pb2_grpc as pb_grpc
from synctv.mesh.auth import AUDIENCE, TokenSigner, verify_token
from tests.support.mesh import CLUSTER_SECRET, MeshFactory, command

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
    token = signer.token()
    assert verify_token(token, CLUSTER_SECRET) == "node-a"
    claims = jwt.decode(token, CLUSTER_SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["iss"] == "node-a" and claims["exp"] - claims["iat"] == 60
    assert signer.token() == token  # cached until half-life
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(token, WRONG_SECRET)
    expired = jwt.encode({"iss": "x", "aud": AUDIENCE, "exp": int(time.time()) - 60}, CLUSTER_SECRET)
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(expired, CLUSTER_SECRET)
    wrong_aud = jwt.encode({"iss": "x", "aud": "other", "exp": int(time.time()) + 60}, CLUSTER_SECRET)
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(wrong_aud, CLUSTER_SECRET)


async def test_stream_without_or_with_bad_token_is_unauthenticated(mesh_factory: MeshFactory) -> None:
    node, handler = await mesh_factory("a")
    assert await _open_stream(node.bound_port, ()) == grpc.StatusCode.UNAUTHENTICATED
    bad = TokenSigner("intruder", WRONG_SECRET).metadata()
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
        good = TokenSigner("b", CLUSTER_SECRET).metadata()
        desc = await stub.Describe(pb.Empty(), metadata=good)
        assert desc.instance_id == "a" and desc.grpc_address == f"127.0.0.1:{node.bound_port}"
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Owner(pb.OwnerRequest(room_id="r"), metadata=good)
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED  # no inspector supplied


async def test_peer_with_wrong_secret_cannot_send(mesh_factory: MeshFactory) -> None:
    from synctv.discovery import Member

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
