"""The mesh over TLS and mutual TLS, with certificates made by a throwaway CA in the test."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grpc
import pytest

from synctv._generated import mesh_pb2, mesh_pb2_grpc
from synctv.discovery import Member
from synctv.mesh import MeshError
from tests.support.mesh import MeshFactory, command, echoed

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")]


def _run(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(tmp: Path) -> dict[str, str]:
    """A CA and one certificate for 127.0.0.1 (server and client use), signed by it."""
    ca_key, ca_crt = tmp / "ca.key", tmp / "ca.crt"
    key, csr, crt, ext = tmp / "node.key", tmp / "node.csr", tmp / "node.crt", tmp / "ext.cnf"
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca_crt),
         "-days", "2", "-subj", "/CN=synctv-test-ca")
    _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    _run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
         "-out", str(crt), "-days", "2", "-extfile", str(ext))
    return {"tls_cert_path": str(crt), "tls_key_path": str(key), "tls_ca_path": str(ca_crt)}


def member(node: object) -> Member:
    return Member(instance_id=node.instance_id, grpc_address=f"127.0.0.1:{node.bound_port}")  # type: ignore[attr-defined]


async def test_mutual_tls_mesh_carries_commands(mesh_factory: MeshFactory, tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    a, _ = await mesh_factory("a", **pki)
    b, hb = await mesh_factory("b", **pki)
    a.set_members([member(a), member(b)])
    b.set_members([member(a), member(b)])
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
    a.set_members([member(a), member(b)])
    with pytest.raises((MeshError, TimeoutError)):
        await a.command("b", command("room", "op1", b"play"), timeout=3)
