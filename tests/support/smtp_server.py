"""A real SMTP server (aiosmtpd) on loopback that requires STARTTLS and AUTH, or speaks implicit TLS, with a
self-signed certificate that the tests' mailer trusts; received mails are parsed and kept."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.oidc_server import free_port

USERNAME = "mailer"
PASSWORD = "mail-secret"


def self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@dataclass
class Inbox:
    mails: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    tls_seen: list[bool] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        with self._lock:
            self.mails.append(msg)
            self.tls_seen.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USERNAME
              and auth_data.password.decode() == PASSWORD)
        if ok:
            self.logins.append(USERNAME)
        return AuthResult(success=ok, handled=False)

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.mails if address in str(m["To"])]


class SmtpServer:
    """`mode` "starttls": STARTTLS required before AUTH; "ssl": implicit TLS from the first byte."""

    def __init__(self, mode: str = "starttls") -> None:
        self.mode = mode
        self.port = free_port()
        self.inbox = Inbox()
        cert, key = self_signed()
        self.cert_pem = cert
        self._dir = tempfile.TemporaryDirectory()
        cert_file, key_file = Path(self._dir.name) / "c.pem", Path(self._dir.name) / "k.pem"
        cert_file.write_bytes(cert)
        key_file.write_bytes(key)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ctx.load_cert_chain(cert_file, key_file)
        kw: dict[str, Any] = {"authenticator": self.inbox.authenticate, "auth_require_tls": True}
        if mode == "ssl":
            # aiosmtpd only counts STARTTLS as TLS for AUTH; with implicit TLS every byte is encrypted anyway.
            kw.update(ssl_context=server_ctx, auth_require_tls=False)
        else:
            kw.update(tls_context=server_ctx, require_starttls=True)
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kw)

    def client_tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.cert_pem.decode())

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
        self._dir.cleanup()

    def settings(self, protocol: str = "tls") -> dict[str, Any]:
        return {"enable_email": True, "smtp_host": "127.0.0.1", "smtp_port": self.port, "smtp_protocol": protocol,
                "smtp_username": USERNAME, "smtp_password": PASSWORD, "smtp_from": "SyncTV <noreply@synctv.test>"}
