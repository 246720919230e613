"""Authenticated garbage on the mesh: a holder of the cluster secret streams random (seeded) envelopes of every
kind, then undecodable bytes, at a real instance; the instance answers or drops each, keeps serving its real
peer, and nobody is reported down."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from synctv._generated import mesh_pb2 as pb
from synctv.mesh.auth import TokenSigner
from tests.support.mesh import CLUSTER_SECRET, MeshFactory, command, echoed, member_of

pytestmark = pytest.mark.timeout(60)

FD = FieldDescriptor
_STRINGS = ["", "r", "room-1", "a", "b", "\x00", "é" * 40, "x" * 5000, "../../etc", "0" * 32]


def _scalar(rng: random.Random, field: FieldDescriptor) -> Any:
    t = field.type
    if t == FD.TYPE_STRING:
        return rng.choice(_STRINGS)
    if t == FD.TYPE_BYTES:
        return rng.randbytes(rng.choice([0, 1, 7, 300]))
    if t == FD.TYPE_BOOL:
        return rng.random() < 0.5
    if t == FD.TYPE_ENUM:
        values = [v.number for v in field.enum_type.values]
        return rng.choice([*values, max(values) + 7])  # and one this build doesn't know
    if t in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return rng.choice([0.0, -1.0, 1e308, float("nan"), float("inf"), rng.uniform(-1e6, 1e6)])
    if t in (FD.TYPE_UINT32, FD.TYPE_FIXED32):
        return rng.choice([0, 1, 2**32 - 1, rng.randrange(2**32)])
    if t in (FD.TYPE_UINT64, FD.TYPE_FIXED64):
        return rng.choice([0, 1, 2**64 - 1, rng.randrange(2**64)])
    if t in (FD.TYPE_INT32, FD.TYPE_SINT32, FD.TYPE_SFIXED32):
        return rng.choice([0, -1, 2**31 - 1, -(2**31), rng.randrange(-(2**31), 2**31)])
    return rng.choice([0, -1, 2**63 - 1, -(2**63), rng.randrange(-(2**63), 2**63)])


def random_message(rng: random.Random, msg: Message, depth: int = 0) -> Message:
    """Fill a random subset of `msg`'s fields (one branch of each oneof), recursively and bounded."""
    desc = msg.DESCRIPTOR
    for oneof in desc.oneofs:
        chosen = rng.choice(oneof.fields)
        _fill(rng, msg, chosen, depth)
    for field in desc.fields:
        if field.containing_oneof is None and rng.random() < 0.6:
            _fill(rng, msg, field, depth)
    return msg


def _fill(rng: random.Random, msg: Message, field: FieldDescriptor, depth: int) -> None:
    if depth > 4:
        return
    repeated = field.is_repeated
    count = rng.choice([0, 1, 3]) if repeated else 1
    if field.type == FD.TYPE_MESSAGE:
        if field.message_type.GetOptions().map_entry:
            target = getattr(msg, field.name)
            for _ in range(count):
                key = _scalar(rng, field.message_type.fields_by_name["key"])
                value_field = field.message_type.fields_by_name["value"]
                if value_field.type == FD.TYPE_MESSAGE:
                    random_message(rng, target[key], depth + 1)
                else:
                    target[key] = _scalar(rng, value_field)
            return
        for _ in range(count):
            sub = getattr(msg, field.name).add() if repeated else getattr(msg, field.name)
            random_message(rng, sub, depth + 1)
            if not repeated:
                sub.SetInParent()
        return
    if repeated:
        getattr(msg, field.name).extend(_scalar(rng, field) for _ in range(count))
    else:
        setattr(msg, field.name, _scalar(rng, field))


async def _stream(port: int, metadata: Any, frames: list[bytes]) -> None:
    """Open an authenticated stream as `b`, say hello, then write raw frame bytes; tolerate being cut off."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        connect = channel.stream_stream("/synctv.mesh.Mesh/Connect", request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
        call = connect(metadata=metadata)
        hello = pb.Frame(envelopes=[pb.Envelope(hello=pb.Hello(instance_id="b", protocol_major=2))])
        try:
            await call.write(hello.SerializeToString())
            for data in frames:
                await call.write(data)
            await asyncio.sleep(0.5)  # let the instance work through them
        except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError):
            pass  # the instance may end a stream that sends it nonsense
        finally:
            call.cancel()


async def test_authenticated_garbage_leaves_the_instance_serving(mesh_factory: MeshFactory) -> None:
    a, ha = await mesh_factory("a")
    b, hb = await mesh_factory("b")
    for n in (a, b):
        n.set_members([member_of(a), member_of(b)])
    assert echoed(await b.command("a", command("r", "op0", b"0"), timeout=5)) == b"ok:a:0"
    metadata = TokenSigner("b", CLUSTER_SECRET).metadata("a")
    rng = random.Random(20261202)
    structured = [random_message(rng, pb.Frame()).SerializeToString() for _ in range(400)]
    await _stream(a.bound_port, metadata, structured)
    # Then bytes that are not a Frame at all: truncated, random, a huge length prefix.
    junk = [rng.randbytes(rng.choice([1, 5, 64, 4096])) for _ in range(50)] + [b"\x0a\xff\xff\xff\xff\x0f"]
    for data in junk:
        await _stream(a.bound_port, metadata, [data])
    # The real peer never noticed: both directions work and nobody was reported down.
    for i in range(3):
        assert echoed(await b.command("a", command("r", f"op{i + 1}", b"x"), timeout=5)) == b"ok:a:x"
        assert echoed(await a.command("b", command("r", f"back{i}", b"y"), timeout=5)) == b"ok:b:y"
    assert ha.peer_downs == [] and hb.peer_downs == []
    # Some of the garbage was well-formed enough to reach the handler: it was dispatched, not crashed on.
    assert any(peer == "b" for peer, _ in ha.commands)
