"""A throwaway PKI made with openssl: a CA and one certificate for 127.0.0.1/localhost (server and client use)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _run(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(tmp: Path, name: str = "node") -> dict[str, str]:
    """The mesh's TLS settings (`tls_cert_path`, `tls_key_path`, `tls_ca_path`) for one CA and certificate."""
    tmp.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = tmp / "ca.key", tmp / "ca.crt"
    key, csr, crt, ext = tmp / f"{name}.key", tmp / f"{name}.csr", tmp / f"{name}.crt", tmp / "ext.cnf"
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca_crt),
         "-days", "2", "-subj", "/CN=synctv-test-ca")
    _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    _run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
         "-out", str(crt), "-days", "2", "-extfile", str(ext))
    return {"tls_cert_path": str(crt), "tls_key_path": str(key), "tls_ca_path": str(ca_crt)}
