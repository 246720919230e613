"""SMTP through aiosmtplib with a bounded pool of open connections, rebuilt when the SMTP settings change.

`smtp_protocol` (upstream's values, case-insensitive):

| value  | connection |
|--------|------------|
| `tls`  | plain connection upgraded with STARTTLS (required), usually port 587 |
| `ssl`  | implicit TLS from the first byte (SMTPS), usually port 465 |
| `tcp`  | plain connection, never encrypted |
| `""`   | plain connection, upgraded with STARTTLS when the server offers it |
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

import aiosmtplib

from synctv.store.settings import SettingsStore

CONNECT_TIMEOUT_S = 15.0


class MailError(Exception):
    """The mail could not be sent; the message says why in words an admin or user can act on."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    protocol: str
    username: str
    password: str
    sender: str
    pool_size: int

    @classmethod
    def read(cls, settings: SettingsStore) -> SmtpSettings:
        return cls(settings.text("smtp_host").strip(), settings.int("smtp_port"),
                   settings.text("smtp_protocol").strip().lower(), settings.text("smtp_username"),
                   settings.text("smtp_password"), settings.text("smtp_from").strip(),
                   max(1, settings.int("smtp_pool_size")))


class _Pool:
    def __init__(self, cfg: SmtpSettings, tls_context: ssl.SSLContext | None) -> None:
        self.cfg = cfg
        self._tls = tls_context
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(cfg.pool_size)

    async def _connect(self) -> aiosmtplib.SMTP:
        c = self.cfg
        smtp = aiosmtplib.SMTP(hostname=c.host, port=c.port, timeout=CONNECT_TIMEOUT_S, use_tls=c.protocol == "ssl",
                               start_tls={"tls": True, "tcp": False}.get(c.protocol) if c.protocol != "ssl" else False,
                               tls_context=self._tls)
        try:
            await smtp.connect()
            if c.username:
                await smtp.login(c.username, c.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise MailError(f"the mail server refused the login ({exc.code} {exc.message})") from None
        except aiosmtplib.SMTPException as exc:
            smtp.close()
            if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPConnectTimeoutError
                          | aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPTimeoutError):
                raise MailError(f"the mail server {c.host}:{c.port} could not be reached") from None
            raise MailError(f"the mail server refused the connection ({exc})") from None
        except (OSError, ssl.SSLError):
            smtp.close()
            raise MailError(f"the mail server {c.host}:{c.port} could not be reached") from None
        return smtp

    async def send(self, message: EmailMessage) -> None:
        async with self._slots:
            for attempt in range(2):  # a pooled connection the server closed meanwhile: one fresh try
                fresh = not self._idle
                smtp = self._idle.pop() if self._idle else await self._connect()
                try:
                    await smtp.send_message(message)
                except aiosmtplib.SMTPServerDisconnected:
                    smtp.close()
                    if fresh or attempt:
                        raise MailError("the mail server closed the connection") from None
                    continue
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    self._idle.append(smtp)
                    raise MailError(f"the mail server refused the recipient ({exc.recipients[0].message})") from None
                except aiosmtplib.SMTPException as exc:
                    smtp.close()
                    raise MailError(f"the mail server refused the mail ({exc})") from None
                self._idle.append(smtp)
                return

    async def check(self) -> None:
        """Open (or reuse) a connection, as a send would, without sending anything."""
        async with self._slots:
            smtp = self._idle.pop() if self._idle else await self._connect()
            try:
                await smtp.noop()
            except aiosmtplib.SMTPException:
                smtp.close()
                smtp = await self._connect()
            self._idle.append(smtp)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp in idle:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


class Mailer:
    def __init__(self, settings: SettingsStore, *, tls_context: ssl.SSLContext | None = None) -> None:
        self._settings = settings
        self._tls = tls_context
        self._pool: _Pool | None = None
        self._lock = asyncio.Lock()

    async def _current(self) -> _Pool:
        if not self._settings.bool("enable_email"):
            await self.close()
            raise MailError("email is disabled")
        cfg = SmtpSettings.read(self._settings)
        if not cfg.host or not cfg.sender or cfg.protocol not in ("", "tcp", "tls", "ssl"):
            raise MailError("email is not configured (smtp_host, smtp_from)")
        async with self._lock:
            if self._pool is None or self._pool.cfg != cfg:  # settings changed: a new pool
                old, self._pool = self._pool, _Pool(cfg, self._tls)
                if old is not None:
                    await old.close()
            return self._pool

    def _message(self, cfg: SmtpSettings, to: str, subject: str, text: str, html: str) -> EmailMessage:
        msg = EmailMessage()
        name, addr = parseaddr(cfg.sender)
        msg["From"] = formataddr((name or "SyncTV", addr or cfg.sender))
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=(addr or cfg.sender).rpartition("@")[2] or None)
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg

    async def send(self, to: str, subject: str, text: str, html: str) -> None:
        pool = await self._current()
        await pool.send(self._message(pool.cfg, to, subject, text, html))

    async def check(self) -> None:
        await (await self._current()).check()

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
