"""The real OpenID Connect provider (npm `oidc-provider`, tests/support/oidc_provider) on loopback.

`OidcServer` starts it, registers clients through its dynamic registration endpoint, switches it into
modes that hand out broken ID tokens, and walks its development login and consent pages like a browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import aiohttp

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
READY_TIMEOUT_S = 30.0
MAX_HOPS = 16


def available() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return "oidc-provider is not installed (npm ci --prefix tests/support/oidc_provider)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class Callback:
    url: str
    params: dict[str, str]


class OidcServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(["node", "server.mjs", str(self.port)], cwd=PROVIDER_DIR, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      env={**os.environ, "NODE_ENV": "test"})
        assert self._proc.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            line = self._proc.stdout.readline()
            if line.startswith("READY"):
                return
            if not line and self._proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("the OpenID Connect provider did not start")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None

    async def register(self, redirect_uri: str) -> Client:
        async with aiohttp.ClientSession() as s, s.post(self.issuer + "/reg", json={
            "redirect_uris": [redirect_uri], "response_types": ["code"], "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }) as resp:
            body = await resp.json()
            assert resp.status == 201, body
        return Client(body["client_id"], body["client_secret"], redirect_uri)

    async def set_mode(self, mode: str) -> None:
        body = json.dumps({"mode": mode})
        async with aiohttp.ClientSession() as s, s.post(self.issuer + "/test/mode", data=body) as r:
            assert r.status == 200


def browser_session() -> aiohttp.ClientSession:
    # The provider's cookies are set for 127.0.0.1; aiohttp ignores cookies of IP hosts unless unsafe.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def authorize(session: aiohttp.ClientSession, url: str, redirect_uri: str, login: str, *,
                    deny: bool = False) -> Callback:
    """Follow the provider's pages as a user would: log in as `login`, consent (or abort), and stop where the
    provider sends the browser back to `redirect_uri`."""
    for _ in range(MAX_HOPS):
        if url.startswith(redirect_uri):
            q = parse_qs(urlsplit(url).query)
            return Callback(url, {k: v[0] for k, v in q.items()})
        async with session.get(url, allow_redirects=False) as resp:
            if resp.status in (302, 303):
                url = urljoin(url, resp.headers["Location"])
                continue
            page = await resp.text()
            assert resp.status == 200, page[:500]
        if deny:
            abort = re.search(r'href="([^"]*/abort)"', page)
            assert abort, page[:500]
            url = urljoin(url, abort.group(1))
            continue
        form = _FORM.search(page)
        assert form, page[:500]
        fields = dict(_HIDDEN.findall(form.group(2)))
        if fields.get("prompt") == "login":
            fields.update(login=login, password="any-password")
        async with session.post(urljoin(url, form.group(1)), data=fields, allow_redirects=False) as resp:
            assert resp.status in (302, 303), await resp.text()
            url = urljoin(url, resp.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


def as_params(callback: Callback) -> dict[str, Any]:
    return {k: callback.params[k] for k in ("code", "state") if k in callback.params}


async def configure(api: Any, admin_token: str, oidc: OidcServer, name: str = "idp", *, pin_redirect: bool = False,
                    **extra: Any) -> Client:
    """Register a client at the provider for `api`'s server and enable it there as generic provider `name`.

    Unless `pin_redirect`, the redirect URL setting stays empty and the server derives it from the request."""
    client = await oidc.register(f"{api.base}/oauth2/callback/{name}")
    if pin_redirect:
        extra[f"oauth2_{name}_redirect_url"] = client.redirect_uri
    await api.ok("POST", "/api/admin/settings", expect=204, token=admin_token, json={
        "oauth2_oidc_providers": name, f"oauth2_{name}_enabled": True, f"oauth2_{name}_issuer": oidc.issuer,
        f"oauth2_{name}_client_id": client.client_id, f"oauth2_{name}_client_secret": client.client_secret,
        **extra})
    return client
