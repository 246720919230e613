"""E-mail: signup with an e-mailed code, password retrieval (code and link), binding and unbinding an
address, the admin's test mail, and the captchas that guard the code requests.

Captcha answers and codes are in the database, so each step may land on a different instance.
"""

from __future__ import annotations

import asyncio
import random
import time
from urllib.parse import urlencode

from aiohttp import web

from synctv.api import captcha
from synctv.api.auth import require_admin, require_user
from synctv.api.context import services
from synctv.api.redirects import site_base
from synctv.api.requests import field_str, json_object, validated
from synctv.api.responses import bad_request, no_content, not_found, ok
from synctv.api.routes_user import token_response
from synctv.api.routing import Routes
from synctv.auth.email import codes
from synctv.auth.email.mailer import MailError
from synctv.auth.email.templates import render
from synctv.auth.passwords import hash_password
from synctv.core import validation
from synctv.core.permissions import Role
from synctv.services import Services
from synctv.store.users import Conflict

routes = Routes("email")
# Upstream answers an unknown address after a random 3-4.5 s; a known one is made to take as long.
RETRIEVE_DELAY_S = (3.0, 4.5)
CAPTCHA_TTL_S = 300.0


async def _new_captcha(request: web.Request) -> web.Response:
    captcha_id, answer, body = captcha.challenge()
    await services(request).store.email_codes.issue(captcha.store_key(captcha_id), answer, CAPTCHA_TTL_S)
    return ok(body)


async def _check_captcha(svc: Services, body: dict[str, object]) -> None:
    captcha_id = field_str(body, "captchaId")
    answer = field_str(body, "answer")
    if not captcha_id or len(captcha_id) > 64 or len(answer) > 16 or not await svc.store.email_codes.verify(
            captcha.store_key(captcha_id), answer, max_attempts=1):
        raise bad_request("captcha is wrong or expired")


def _require_email_enabled(svc: Services) -> None:
    if not svc.store.settings.bool("enable_email"):
        raise bad_request("email is disabled")


def _require_email_signup(svc: Services) -> None:
    _require_email_enabled(svc)
    s = svc.store.settings
    if s.bool("disable_user_signup") or s.bool("email_disable_user_signup"):
        raise bad_request("signup is disabled")


def _email(body: dict[str, object]) -> str:
    return str(validated(validation.email, field_str(body, "email")))


def _check_whitelist(svc: Services, email: str) -> None:
    s = svc.store.settings
    if not s.bool("email_signup_white_list_enable"):
        return
    allowed = {d.strip().lower() for d in s.text("email_signup_white_list").split(",") if d.strip()}
    if email.rpartition("@")[2].lower() not in allowed:
        raise bad_request("this e-mail domain is not allowed to sign up")


async def _send(svc: Services, to: str, kind: str, **values: str) -> None:
    mail = render(kind, **values)
    try:
        await svc.email_sender().send(to, mail.subject, mail.text, mail.html)
    except MailError as exc:
        raise bad_request(f"the mail could not be sent: {exc}") from None


async def _code(svc: Services, key: str) -> str:
    return await svc.store.email_codes.issue(key, codes.new_code(), codes.CODE_TTL_S)


async def _verify(svc: Services, key: str, code: str) -> None:
    if not code or len(code) > 16 or not await svc.store.email_codes.verify(key, code, codes.MAX_ATTEMPTS):
        raise bad_request("the code is wrong or expired")


for _path, _summary, _auth in (
    ("/api/user/signup/email/captcha", "Image captcha for e-mail signup", "none"),
    ("/api/user/retrieve/email/captcha", "Image captcha for password retrieval", "none"),
):
    routes.get(_path, _summary, auth=_auth)(_new_captcha)


@routes.get("/api/user/bind/email/captcha", "Image captcha for binding an e-mail", auth="user")
async def bind_captcha(request: web.Request) -> web.Response:
    await require_user(request)
    return await _new_captcha(request)


@routes.post("/api/user/signup/email/captcha", "Send an e-mail signup code",
             body={"email": "string", "captchaId": "string", "answer": "string"})
async def signup_code(request: web.Request) -> web.Response:
    svc = services(request)
    _require_email_signup(svc)
    body = await json_object(request)
    email = _email(body)
    _check_whitelist(svc, email)
    await _check_captcha(svc, body)
    if await svc.store.users.get_by_email(email) is not None:
        raise bad_request("email already used")
    await _send(svc, email, "signup", code=await _code(svc, codes.signup_key(email)))
    return no_content()


@routes.post("/api/user/signup/email", "Sign up with an e-mailed code",
             body={"email": "string", "captcha": "string", "password": "string"}, status=200)
async def signup(request: web.Request) -> web.Response:
    svc = services(request)
    _require_email_signup(svc)
    body = await json_object(request)
    email = _email(body)
    _check_whitelist(svc, email)
    password = validated(validation.password, field_str(body, "password"),
                         min_length=svc.store.settings.int(validation.PASSWORD_MIN_LENGTH))
    await _verify(svc, codes.signup_key(email), field_str(body, "captcha"))
    s = svc.store.settings
    review = s.bool("signup_need_review") or s.bool("email_signup_need_review")
    hashed = await hash_password(password)
    try:
        user = await svc.store.users.create_by_email(validation.username_base(email), email, hashed,
                                                     Role.PENDING if review else Role.USER)
    except Conflict as exc:
        raise bad_request(str(exc)) from None
    return token_response(svc, user.id, hashed, user.role)


@routes.post("/api/user/retrieve/email/captcha", "Send a password retrieval code (204 for any address)",
             body={"email": "string", "captchaId": "string", "answer": "string"})
async def retrieve_code(request: web.Request) -> web.Response:
    svc = services(request)
    _require_email_enabled(svc)
    body = await json_object(request)
    email = _email(body)
    await _check_captcha(svc, body)
    done_at = time.monotonic() + random.uniform(*RETRIEVE_DELAY_S)
    user = await svc.store.users.get_by_email(email)
    try:
        if user is None:
            await svc.email_sender().check()  # the mail server being down shows for every address alike
        else:
            code = await _code(svc, codes.retrieve_key(user.id, email))
            link = f"{site_base(request)}/web/auth/reset?" + urlencode({"captcha": code, "email": email})
            await _send(svc, email, "retrieve_password", code=code, link=link)
    except MailError as exc:
        raise bad_request(f"the mail could not be sent: {exc}") from None
    await asyncio.sleep(max(0.0, done_at - time.monotonic()))
    return no_content()


@routes.post("/api/user/retrieve/email", "Set a new password with an e-mailed code",
             body={"email": "string", "captcha": "string", "password": "string"}, status=200)
async def retrieve(request: web.Request) -> web.Response:
    svc = services(request)
    _require_email_enabled(svc)
    body = await json_object(request)
    email = _email(body)
    password = validated(validation.password, field_str(body, "password"),
                         min_length=svc.store.settings.int(validation.PASSWORD_MIN_LENGTH))
    code = field_str(body, "captcha")
    user = await svc.store.users.get_by_email(email)
    if user is None:
        raise bad_request("the code is wrong or expired")
    await _verify(svc, codes.retrieve_key(user.id, email), code)
    hashed = await hash_password(password)
    await svc.store.users.set_password(user.id, hashed)
    await svc.invalidate("user", user.id)
    return token_response(svc, user.id, hashed, user.role)


@routes.post("/api/user/bind/email/captcha", "Send an e-mail binding code", auth="user",
             body={"email": "string", "captchaId": "string", "answer": "string"})
async def bind_code(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_user(request)
    _require_email_enabled(svc)
    body = await json_object(request)
    email = _email(body)
    await _check_captcha(svc, body)
    owner = await svc.store.users.get_by_email(email)
    if owner is not None:
        raise bad_request("this e-mail is already bound" if owner.id == me.id else "email already used")
    await _send(svc, email, "captcha", code=await _code(svc, codes.bind_key(me.id, email)))
    return no_content()


@routes.post("/api/user/bind/email", "Bind an e-mail with the code sent to it", auth="user",
             body={"email": "string", "captcha": "string"})
async def bind(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_user(request)
    _require_email_enabled(svc)
    body = await json_object(request)
    email = _email(body)
    await _verify(svc, codes.bind_key(me.id, email), field_str(body, "captcha"))
    try:
        await svc.store.users.set_email(me.id, email)
    except Conflict as exc:
        raise bad_request(str(exc)) from None
    return no_content()


@routes.post("/api/user/unbind/email", "Unbind my e-mail (not for accounts signed up by e-mail)", auth="user")
async def unbind(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_user(request)
    user = await svc.store.users.get(me.id)
    if user is None:
        raise not_found("user not found")
    if not user.email:
        raise bad_request("no email is bound")
    if user.registered_by_email:
        raise bad_request("the e-mail of an account signed up by e-mail cannot be unbound")
    await svc.store.users.set_email(me.id, None)
    return no_content()


@routes.post("/api/admin/email/test", "Send a test e-mail (to the given address, else to my own)",
             auth="admin", body={"email": "string"})
async def test_mail(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    body = await json_object(request) if request.can_read_body else {}
    to = field_str(body, "email", required=False)
    if to:
        to = str(validated(validation.email, to))
    else:
        user = await svc.store.users.get(me.id)
        to = (user.email or "") if user else ""
        if not to:
            raise bad_request("give an e-mail address, or bind one to your account")
    await _send(svc, to, "test", username=me.username)
    return no_content()
