"""E-mail signup, password retrieval, binding and the test mail against a real SMTP server (aiosmtpd) on
loopback that requires STARTTLS and AUTH (and one speaking implicit TLS)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from synctv.api.captcha import store_key
from synctv.auth.email.mailer import Mailer
from synctv.core.permissions import Role
from synctv.store.email_codes import key_hash
from synctv.store.models import EmailCode
from tests.support.api_client import Api
from tests.support.servers import Server, start_server
from tests.support.smtp_server import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


async def enable_email(server: Server, smtp: SmtpServer, protocol: str = "tls", **extra: Any) -> str:
    svc = server.runtime.services
    assert svc is not None
    svc.mailer = Mailer(server.store.settings, tls_context=smtp.client_tls())
    root = await server.make_user("boss", Role.ROOT)
    await server.api.ok("POST", "/api/admin/settings", expect=204, token=root,
                        json={**smtp.settings(protocol), **extra})
    return root


async def captcha(server: Server, kind: str, token: str | None = None) -> dict[str, str]:
    data = await server.api.ok("GET", f"/api/user/{kind}/email/captcha", token=token)
    async with server.store.engine.connect() as conn:
        answer = await conn.scalar(select(EmailCode.code).where(
            EmailCode.key_hash == key_hash(store_key(data["captchaId"]))))
    return {"captchaId": data["captchaId"], "answer": str(answer)}


def code_in(mail: EmailMessage) -> str:
    html = mail.get_body(("html",))
    text = mail.get_body(("plain",))
    assert html is not None and text is not None
    match = re.search(r'id="code">([A-Za-z]{6})<', html.get_content())
    assert match, html.get_content()
    assert f": {match.group(1)}" in text.get_content()
    return match.group(1)


async def test_signup_by_code(sqlite_server: Server, smtp: SmtpServer) -> None:
    server, api = sqlite_server, sqlite_server.api
    await enable_email(server, smtp)
    address = "newbie@gmail.com"
    await api.ok("POST", "/api/user/signup/email/captcha", expect=204,
                 json={"email": address, **await captcha(server, "signup")})
    [mail] = smtp.inbox.to(address)
    assert mail["Subject"] == "SyncTV Signup Verification Code"
    assert "noreply@synctv.test" in mail["From"]
    assert smtp.inbox.tls_seen == [True] and smtp.inbox.logins
    code = code_in(mail)

    # A resend keeps the code.
    await api.ok("POST", "/api/user/signup/email/captcha", expect=204,
                 json={"email": address, **await captcha(server, "signup")})
    assert code_in(smtp.inbox.to(address)[1]) == code

    # A captcha is used once.
    used = await captcha(server, "signup")
    await api.ok("POST", "/api/user/signup/email/captcha", expect=204, json={"email": address, **used})
    status, body = await api.call("POST", "/api/user/signup/email/captcha", json={"email": address, **used})
    assert status == 400 and "captcha" in body["error"]

    data = await api.ok("POST", "/api/user/signup/email",
                        json={"email": address, "captcha": code, "password": "pass-word1"})
    me = await api.me(data["token"])
    assert me["email"] == address and me["username"] == address and data["role"] == Role.USER
    assert await api.login(address, "pass-word1")

    # The code is used up; the address is taken.
    status, body = await api.call("POST", "/api/user/signup/email",
                                  json={"email": address, "captcha": code, "password": "pass-word1"})
    assert status == 400 and "wrong or expired" in body["error"]
    status, body = await api.call("POST", "/api/user/signup/email/captcha",
                                  json={"email": address, **await captcha(server, "signup")})
    assert status == 400 and "already used" in body["error"]
    # ... and the e-mail of an account signed up by e-mail cannot be unbound.
    status, body = await api.call("POST", "/api/user/unbind/email", token=data["token"])
    assert status == 400 and "cannot be unbound" in body["error"]


async def test_wrong_codes_are_limited_and_rules_apply(sqlite_server: Server, smtp: SmtpServer) -> None:
    server, api = sqlite_server, sqlite_server.api
    root = await enable_email(server, smtp, email_signup_white_list_enable=True,
                              email_signup_white_list="gmail.com, example.org")
    status, body = await api.call("POST", "/api/user/signup/email/captcha",
                                  json={"email": "x@evil.test", **await captcha(server, "signup")})
    assert status == 400 and "not allowed to sign up" in body["error"]
    assert smtp.inbox.mails == []

    address = "tries@example.org"
    await api.ok("POST", "/api/user/signup/email/captcha", expect=204,
                 json={"email": address, **await captcha(server, "signup")})
    code = code_in(smtp.inbox.to(address)[0])
    for _ in range(5):
        status, body = await api.call("POST", "/api/user/signup/email",
                                      json={"email": address, "captcha": "zzzzzz", "password": "pass-word1"})
        assert status == 400 and "wrong or expired" in body["error"]
    status, body = await api.call("POST", "/api/user/signup/email",
                                  json={"email": address, "captcha": code, "password": "pass-word1"})
    assert status == 400, "five wrong tries use the code up"
    assert await server.store.users.get_by_email(address) is None

    for bad in ({"email": "not-an-address", "captchaId": "a", "answer": "1"}, {"email": address},
                {"email": address, "captchaId": "nope", "answer": "12345"}, []):
        status, body = await api.call("POST", "/api/user/signup/email/captcha", json=bad)
        assert status == 400, bad

    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"email_disable_user_signup": True})
    status, body = await api.call("POST", "/api/user/signup/email/captcha",
                                  json={"email": address, **await captcha(server, "signup")})
    assert status == 400 and "signup is disabled" in body["error"]
    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"enable_email": False})
    status, body = await api.call("POST", "/api/user/retrieve/email/captcha",
                                  json={"email": address, **await captcha(server, "retrieve")})
    assert status == 400 and "email is disabled" in body["error"]


async def test_retrieve_password_by_code_and_link(sqlite_server: Server, smtp: SmtpServer) -> None:
    server, api = sqlite_server, sqlite_server.api
    await enable_email(server, smtp)
    token = await server.make_user("forgetful", password="old-pass1")
    user_id = (await api.me(token))["id"]
    await server.store.users.set_email(user_id, "forgetful@example.org")

    started = time.monotonic()
    await api.ok("POST", "/api/user/retrieve/email/captcha", expect=204,
                 json={"email": "forgetful@example.org", **await captcha(server, "retrieve")})
    known_s = time.monotonic() - started
    [mail] = smtp.inbox.to("forgetful@example.org")
    assert mail["Subject"] == "SyncTV Retrieve Password Verification Code"
    code = code_in(mail)
    html = mail.get_body(("html",))
    assert html is not None
    link = f"{api.base}/web/auth/reset?captcha={code}&amp;email=forgetful%40example.org"
    assert link in html.get_content()
    text = mail.get_body(("plain",))
    assert text is not None and link.replace("&amp;", "&") in text.get_content()

    # An unknown address gets the same answer after as long, and no mail.
    started = time.monotonic()
    await api.ok("POST", "/api/user/retrieve/email/captcha", expect=204,
                 json={"email": "nobody@example.org", **await captcha(server, "retrieve")})
    unknown_s = time.monotonic() - started
    assert known_s >= 3.0 and unknown_s >= 3.0
    assert len(smtp.inbox.mails) == 1

    data = await api.ok("POST", "/api/user/retrieve/email",
                        json={"email": "forgetful@example.org", "captcha": code, "password": "new-pass1"})
    assert (await api.me(data["token"]))["id"] == user_id
    assert await api.login("forgetful", "new-pass1")
    status, _ = await api.call("POST", "/api/user/login", json={"username": "forgetful", "password": "old-pass1"})
    assert status == 403
    assert (await api.call("GET", "/api/user/me", token=token))[0] == 401  # old sessions end
    status, body = await api.call("POST", "/api/user/retrieve/email",
                                  json={"email": "forgetful@example.org", "captcha": code, "password": "x-pass12"})
    assert status == 400 and "wrong or expired" in body["error"]


async def test_bind_and_unbind_email(sqlite_server: Server, smtp: SmtpServer) -> None:
    server, api = sqlite_server, sqlite_server.api
    await enable_email(server, smtp)
    token = await server.make_user("binder")
    other = await server.make_user("other")
    assert (await api.call("GET", "/api/user/bind/email/captcha"))[0] == 401
    await api.ok("POST", "/api/user/bind/email/captcha", expect=204, token=token,
                 json={"email": "binder@example.org", **await captcha(server, "bind", token)})
    [mail] = smtp.inbox.to("binder@example.org")
    assert mail["Subject"] == "SyncTV Verification Code"
    code = code_in(mail)
    # The code is for this user and this address only.
    status, _ = await api.call("POST", "/api/user/bind/email", token=other,
                               json={"email": "binder@example.org", "captcha": code})
    assert status == 400
    await api.ok("POST", "/api/user/bind/email", expect=204, token=token,
                 json={"email": "binder@example.org", "captcha": code})
    assert (await api.me(token))["email"] == "binder@example.org"
    status, body = await api.call("POST", "/api/user/bind/email/captcha", token=other,
                                  json={"email": "binder@example.org", **await captcha(server, "bind", other)})
    assert status == 400 and "already used" in body["error"]
    await api.ok("POST", "/api/user/unbind/email", expect=204, token=token)
    assert (await api.me(token))["email"] == ""
    status, body = await api.call("POST", "/api/user/unbind/email", token=token)
    assert status == 400 and "no email" in body["error"]


async def test_admin_test_mail_and_smtp_failures(sqlite_server: Server, smtp: SmtpServer) -> None:
    server, api = sqlite_server, sqlite_server.api
    root = await enable_email(server, smtp)
    user = await server.make_user("plain")
    assert (await api.call("POST", "/api/admin/email/test", token=user, json={"email": "a@b.cd"}))[0] == 403
    await api.ok("POST", "/api/admin/email/test", expect=204, token=root, json={"email": "admin@example.org"})
    [mail] = smtp.inbox.to("admin@example.org")
    assert mail["Subject"] == "SyncTV Test Email"
    html, text = mail.get_body(("html",)), mail.get_body(("plain",))
    assert html is not None and "sent by boss" in html.get_content()
    assert text is not None and "sent by boss" in text.get_content()
    status, body = await api.call("POST", "/api/admin/email/test", token=root, json={})
    assert status == 400 and "give an e-mail address" in body["error"]

    # Wrong password: the server refuses AUTH.
    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"smtp_password": "wrong"})
    status, body = await api.call("POST", "/api/admin/email/test", token=root, json={"email": "admin@example.org"})
    assert status == 400 and "refused the login" in body["error"], body

    # Nobody listens: a clear error, and the retrieve flow says the same for unknown addresses.
    smtp.stop()
    await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"smtp_password": "mail-secret"})
    status, body = await api.call("POST", "/api/admin/email/test", token=root, json={"email": "admin@example.org"})
    assert status == 400 and "could not be reached" in body["error"], body
    status, body = await api.call("POST", "/api/user/retrieve/email/captcha",
                                  json={"email": "ghost@example.org", **await captcha(server, "retrieve")})
    assert status == 400 and "could not be reached" in body["error"]
    smtp.start = lambda: None  # type: ignore[method-assign]
    smtp.stop = lambda: None  # type: ignore[method-assign]


async def test_implicit_tls_and_a_pool_rebuilt_on_new_settings(sqlite_server: Server, smtp: SmtpServer) -> None:
    server, api = sqlite_server, sqlite_server.api
    root = await enable_email(server, smtp)
    await api.ok("POST", "/api/admin/email/test", expect=204, token=root, json={"email": "one@example.org"})
    implicit = SmtpServer("ssl")
    implicit.start()
    try:
        svc = server.runtime.services
        assert svc is not None
        svc.mailer = Mailer(server.store.settings, tls_context=implicit.client_tls())
        await api.ok("POST", "/api/admin/settings", expect=204, token=root, json=implicit.settings("ssl"))
        await api.ok("POST", "/api/admin/email/test", expect=204, token=root, json={"email": "two@example.org"})
        assert implicit.inbox.to("two@example.org") and not smtp.inbox.to("two@example.org")
        assert implicit.inbox.tls_seen == [True]
        # STARTTLS asked of a server that speaks TLS from the first byte: a clear error, not a hang.
        await api.ok("POST", "/api/admin/settings", expect=204, token=root, json={"smtp_protocol": "tls"})
        status, body = await api.call("POST", "/api/admin/email/test", token=root, json={"email": "x@example.org"})
        assert status == 400 and "mail" in body["error"]
    finally:
        implicit.stop()


async def test_captcha_code_and_signup_on_different_instances(tmp_path: Path, smtp: SmtpServer) -> None:
    """Two instances on one database: the captcha from one, the code request on the other, the signup back on
    the first."""
    data = tmp_path / "data"
    first, base_a = await start_server(data)
    second, base_b = await start_server(data)
    try:
        async with aiohttp.ClientSession() as session:
            a, b = Server(first, Api(base_a, session)), Server(second, Api(base_b, session))
            await enable_email(a, smtp)
            assert second.services is not None
            second.services.mailer = Mailer(second.store.settings, tls_context=smtp.client_tls())
            await second.store.settings.reload()  # what the cluster's invalidation does on a real mesh
            await b.api.ok("POST", "/api/user/signup/email/captcha", expect=204,
                           json={"email": "roamer@gmail.com", **await captcha(a, "signup")})
            code = code_in(smtp.inbox.to("roamer@gmail.com")[0])
            data_ = await a.api.ok("POST", "/api/user/signup/email",
                                   json={"email": "roamer@gmail.com", "captcha": code, "password": "pass-word1"})
            assert (await b.api.me(data_["token"]))["email"] == "roamer@gmail.com"
    finally:
        await second.stop()
        await first.stop()
