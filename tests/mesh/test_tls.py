"""The mesh over TLS and mutual TLS, with certificates made by a throwaway CA in the test."""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest

from synctv._generated import mesh_pb2, mesh_pb2_grpc
from synctv.mesh import MeshError
from tests.support.mesh import MeshFactory, command, echoed, member_of
from tests.support.pki import make_pki

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")]


async def test_mutual_tls_mesh_carries_commands(mesh_factory: MeshFactory, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    a, _ = await mesh_factory("a", **pki)
    b, hb = await mesh_factory("b", **pki)
    a.set_members([member_of(a), member_of(b)])
    b.set_members([member_of(a), member_of(b)])
    assert echoed(await a.command("b", command("room", "op1", b"play"), timeout=10)) == b"ok:b:play"
    assert (hb.commands[0][0], hb.commands[0][1].room_id, hb.commands[0][1].op_id) == ("a", "room", "op1")


async def test_mutual_tls_refuses_a_client_without_a_certificate(mesh_factory: MeshFactory, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    b, _ = await mesh_factory("b", **pki)
    with open(pki["tls_ca_path"], "rb") as ca:  # noqa: ASYNC230 - a small local file in a test
        root = ca.read()
    creds = grpc.ssl_channel_credentials(root_certificates=root)
    async with grpc.aio.secure_channel(f"127.0.0.1:{b.bound_port}", creds) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await mesh_pb2_grpc.MeshStub(channel).Describe(mesh_pb2.Empty(), timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_plaintext_peer_cannot_talk_to_a_tls_mesh(mesh_factory: MeshFactory, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    a, _ = await mesh_factory("a")  # no TLS
    b, _ = await mesh_factory("b", **pki)
    a.set_members([member_of(a), member_of(b)])
    with pytest.raises((MeshError, TimeoutError)):
        await a.command("b", command("room", "op1", b"play"), timeout=3)
