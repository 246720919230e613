"""Security headers on every HTTP response.

The web client's policy allows exactly what its players need: its own scripts and styles (hls.js is served from
the same origin), media and playlist/segment fetches from any http(s) origin (members add arbitrary media URLs),
`blob:` media (MSE attaches a blob: URL to the video element) and `blob:` workers (hls.js transmuxes in one).
The WebSocket is same-origin, which `'self'` covers. Everything else, API JSON and media answers included, gets
a policy that allows nothing, so a response opened as a document (say, an HTML or SVG file fetched through the
media proxy) can run no script. No page may be framed.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import MutableMapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

WEB_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' https: http: blob:",
    # ws:/wss: for the room's WebSocket on another of the cluster's public addresses (server.public_addresses).
    "connect-src 'self' https: http: ws: wss:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",  # index.html's <base href="/web/">
    "form-action 'self'",
    "frame-ancestors 'none'",
])
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"



def inline_script_csp(script: str) -> str:
    """For a server-made page whose one inline script is `script` (the OAuth2 redirect and callback pages): that
    script, by its hash, and nothing else."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return f"default-src 'none'; script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'; " \
           "frame-ancestors 'none'"


_COMMON = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def _is_web(path: str) -> bool:
    return path == "/" or path == "/web" or path.startswith("/web/")


def security_headers_middleware(web_csp: str = "", hsts_max_age: int = 0) -> Middleware:
    """`web_csp` replaces the web client's policy (a custom `--web-path` client may need another).
    `hsts_max_age` > 0: answers this server gives over TLS tell browsers to use HTTPS only, for that long
    (behind a TLS-terminating proxy, the proxy sends the header)."""
    web_headers = {**_COMMON, "Content-Security-Policy": web_csp or WEB_CSP, "Referrer-Policy": "same-origin"}
    api_headers = {**_COMMON, "Content-Security-Policy": API_CSP, "Referrer-Policy": "no-referrer"}
    hsts = f"max-age={hsts_max_age}" if hsts_max_age > 0 else ""

    def add(request: web.Request, headers: MutableMapping[str, str]) -> None:
        for name, value in (web_headers if _is_web(request.path) else api_headers).items():
            headers.setdefault(name, value)  # a handler's own choice wins
        if hsts and request.transport is not None and request.transport.get_extra_info("sslcontext") is not None:
            headers.setdefault("Strict-Transport-Security", hsts)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # redirects and whatever the error middleware lets through
            add(request, exc.headers)
            raise
        if not response.prepared:  # a WebSocket answered its upgrade already
            add(request, response.headers)
        return response

    return middleware
