"""`/oauth2`: log in, sign up and bind with OAuth2 / OpenID Connect providers; `GET /api/user/providers`.

The callback may land on any instance (the state is in the database) and works once. GET callbacks answer an
HTML page (a browser lands there); POST callbacks answer JSON, with `X-OAuth2-Type: auth|bind`.
"""

from __future__ import annotations

import html
import json
from typing import Any

from aiohttp import web

from synctv.api.auth import require_user
from synctv.api.context import services
from synctv.api.middleware.security_headers import inline_script_csp
from synctv.api.redirects import safe_redirect, site_base
from synctv.api.requests import field_str, json_object
from synctv.api.responses import ApiError, bad_request, no_content, ok, raw
from synctv.api.routes_user import token_payload
from synctv.api.routing import Routes
from synctv.auth.oauth2.errors import OAuth2Error, Reason
from synctv.auth.oauth2.flow import OAuth2Flows, Outcome
from synctv.services import Services
from synctv.store.ids import to_ms
from synctv.store.oauth2 import LastWayIn

routes = Routes("oauth2")
MAX_CODE = 2048


def flows(svc: Services) -> OAuth2Flows:
    return OAuth2Flows(svc.store, svc.oauth2_registry(), svc.cfg.jwt.secret)


def _provider(request: web.Request) -> str:
    name = request.match_info["provider"]
    svc = services(request)
    if not svc.oauth2_registry().is_enabled(svc.store.settings, name):
        raise bad_request(Reason.NOT_ENABLED.value)
    return name


def _fail(exc: OAuth2Error) -> ApiError:
    return bad_request(exc.message)


@routes.get("/oauth2/enabled", "OAuth2 providers enabled for login (raw JSON)")
async def enabled(request: web.Request) -> web.Response:
    svc = services(request)
    return raw({"enabled": svc.oauth2_registry().enabled(svc.store.settings)})


@routes.get("/oauth2/enabled/signup", "OAuth2 providers that may create accounts (raw JSON)")
async def signup_enabled(request: web.Request) -> web.Response:
    svc = services(request)
    return raw({"signupEnabled": svc.oauth2_registry().signup_enabled(svc.store.settings)})


async def _start(request: web.Request, provider: str, redirect: str, purpose: str = "auth",
                 user_id: str | None = None) -> str:
    svc = services(request)
    try:
        return await flows(svc).start(provider, purpose=purpose, redirect=safe_redirect(request, redirect),
                                      site_base=site_base(request), user_id=user_id)
    except OAuth2Error as exc:
        raise _fail(exc) from None


def _page(title: str, body: str, script: str = "", status: int = 200) -> web.Response:
    doc = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
           f'<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
           f'<body>{body}{f"<script>{script}</script>" if script else ""}</body></html>')
    resp = web.Response(text=doc, content_type="text/html", status=status)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Content-Security-Policy"] = inline_script_csp(script)
    return resp


def _js(value: Any) -> str:
    """A JSON literal that is safe inside a <script> element."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _redirect_page(url: str, script_before: str = "") -> web.Response:
    link = html.escape(url, quote=True)
    return _page("SyncTV", f'<p><a id="continue" href="{link}">Continue</a></p>',
                 f"{script_before}location.replace({_js(url)});")


@routes.get("/oauth2/login/{provider}", "Start logging in: a page that sends the browser to the provider",
            query=("redirect",))
async def login_page(request: web.Request) -> web.Response:
    url = await _start(request, _provider(request), request.query.get("redirect", ""))
    return _redirect_page(url)


@routes.post("/oauth2/login/{provider}", "Start logging in: the provider's authorization URL",
             body={"redirect": "string"}, status=200)
async def login_url(request: web.Request) -> web.Response:
    provider = _provider(request)
    body = await json_object(request) if request.can_read_body else {}
    return ok({"url": await _start(request, provider, field_str(body, "redirect", required=False))})


@routes.post("/oauth2/bind/{provider}", "Start binding a provider account to mine", auth="user",
             body={"redirect": "string"}, status=200)
async def bind_url(request: web.Request) -> web.Response:
    me = await require_user(request)
    provider = _provider(request)
    body = await json_object(request) if request.can_read_body else {}
    svc = services(request)
    if any(b.provider == provider for b in await svc.store.providers.for_user(me.id)):
        raise bad_request(Reason.HAS_BINDING.value)
    url = await _start(request, provider, field_str(body, "redirect", required=False), "bind", me.id)
    return ok({"url": url})


@routes.post("/oauth2/unbind/{provider}", "Unbind a provider from my account", auth="user")
async def unbind(request: web.Request) -> web.Response:
    me = await require_user(request)
    provider = request.match_info["provider"]
    if len(provider) > 32:
        raise bad_request("provider not found")
    try:
        if not await services(request).store.providers.unbind(me.id, provider):
            raise bad_request("this provider is not bound")
    except LastWayIn as exc:
        raise bad_request(str(exc)) from None
    return no_content()


async def _callback(request: web.Request, provider: str, code: str, state: str, error: str,
                    error_description: str) -> Outcome:
    svc = services(request)
    f = flows(svc)
    if len(code) > MAX_CODE:
        raise OAuth2Error(Reason.PROVIDER, "the code is too long")
    row = await f.take_state(provider, state)  # a denied consent uses up its state too
    if error:
        reason = Reason.DENIED if error == "access_denied" else Reason.PROVIDER
        raise OAuth2Error(reason, (error_description or error)[:200])
    if not code:
        raise OAuth2Error(Reason.PROVIDER, "no code in the callback")
    return await f.finish(provider, row, code, site_base(request))


@routes.get("/oauth2/callback/{provider}", "Provider callback for a browser: a page that logs in and goes on",
            query=("code", "state", "error"))
async def callback_page(request: web.Request) -> web.Response:
    svc = services(request)
    q = request.query
    try:
        provider = _provider(request)
        outcome = await _callback(request, provider, q.get("code", ""), q.get("state", ""), q.get("error", ""),
                                  q.get("error_description", ""))
    except (OAuth2Error, ApiError) as exc:
        message = exc.message
        if "text/html" not in request.headers.get("Accept", ""):  # not a browser: the usual error envelope
            raise bad_request(message) from None
        return _page("SyncTV: login failed",
                     f'<h1>Login failed</h1><p id="oauth2-error">{html.escape(message)}</p>'
                     f'<p><a href="/web/">Back to SyncTV</a></p>', status=400)
    if outcome.purpose == "bind":
        resp = _redirect_page(outcome.redirect)
        resp.headers["X-OAuth2-Type"] = "bind"
        return resp
    payload = token_payload(svc, outcome.user.id, outcome.user.hashed_password, outcome.user.role)
    if "token" not in payload:
        resp = _page("SyncTV", f'<p id="oauth2-error">{html.escape(payload["message"])}</p>'
                     '<p><a href="/web/">Back to SyncTV</a></p>')
    else:
        resp = _redirect_page(outcome.redirect, f"localStorage.setItem('userToken', {_js(payload['token'])});")
    resp.headers["X-OAuth2-Type"] = "auth"
    return resp


@routes.post("/oauth2/callback/{provider}", "Provider callback (JSON): a token, or the bind result",
             body={"code": "string", "state": "string"}, status=200)
async def callback_json(request: web.Request) -> web.Response:
    svc = services(request)
    provider = _provider(request)
    body = await json_object(request)
    try:
        outcome = await _callback(request, provider, field_str(body, "code", required=False),
                                  field_str(body, "state"), field_str(body, "error", required=False),
                                  field_str(body, "error_description", required=False))
    except OAuth2Error as exc:
        raise _fail(exc) from None
    if outcome.purpose == "bind":
        resp = ok({"type": "bind", "redirect": outcome.redirect})
    else:
        payload = token_payload(svc, outcome.user.id, outcome.user.hashed_password, outcome.user.role)
        resp = ok({"type": "auth", "redirect": outcome.redirect, **payload})
    resp.headers["X-OAuth2-Type"] = outcome.purpose
    return resp


@routes.get("/api/user/providers", "My provider bindings, for every enabled provider (raw JSON)", auth="user")
async def user_providers(request: web.Request) -> web.Response:
    me = await require_user(request)
    svc = services(request)
    bound = {b.provider: b for b in await svc.store.providers.for_user(me.id)}
    out: dict[str, dict[str, Any]] = {}
    for name in svc.oauth2_registry().enabled(svc.store.settings):
        b = bound.get(name)
        out[name] = {"providerUserId": b.provider_user_id if b else "", "createdAt": to_ms(b.created_at) if b else 0}
    for name, b in bound.items():  # a binding of a provider disabled since: still listed, so it can be unbound
        out.setdefault(name, {"providerUserId": b.provider_user_id, "createdAt": to_ms(b.created_at)})
    return raw(out)


